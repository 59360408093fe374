"""The simulator's page renderer: forms, handwriting, ink, paper and camera frames."""
