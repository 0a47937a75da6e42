import pytest
from digits_model import load_data


@pytest.fixture(scope="session")
def digits():
    """((x_train, y_train), (x_test, y_test)) from sklearn's offline digits."""
    return load_data()
