"""Protocol and storage logic, kept out of the views. Import modules by name."""
