"""Flow definitions: the model, the YAML loader and validator, and the `when` language."""
