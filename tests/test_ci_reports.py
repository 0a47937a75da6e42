"""Reports where CI looks: JUnit XML properties."""

import xml.etree.ElementTree as ET


def test_junit_xml_carries_each_searchs_key_figures(project):
    project.makepyfile(
        test_junit="""
        import pytest
        from models import FastModel, data

        @pytest.mark.hptune(max_trials=2, executions_per_trial=2)
        def test_two(hptune):
            hptune.search(FastModel(), *data(), max_score=2.0)
            hptune.search(FastModel(), *data(), min_score=0.99)
        """
    )
    result = project.runpytest("--junitxml=junit.xml")
    result.assert_outcomes(failed=1)
    (case,) = ET.parse(project.path / "junit.xml").getroot().iter("testcase")
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["hptune.tuner"] == "random"
    assert props["hptune.objective"] == "val_accuracy (max)"
    assert props["hptune.trials"] == "2/2 completed"
    assert props["hptune.passed"] == "True"
    assert props["hptune.gate_max_score"].endswith("vs 2 passed")
    assert len(props["hptune.best_scores"].split(",")) == 2
    assert "units" in props["hptune.best_hyperparameters"]
    # The second search of the test: its own prefix.
    assert props["hptune2.passed"] == "False"
    assert float(props["hptune2.best_mean"]) < 0.99
    assert props["hptune2.gate_min_score"].endswith("vs 0.99 FAILED")
