"""The hot folder: image files other programs drop in."""
