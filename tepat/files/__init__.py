"""Reading and writing files: the shipped reference data, imports and exports."""
