"""The engine: the only package that imports Keras and Keras Tuner (see README, Layout)."""
