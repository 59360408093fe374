"""``station process``: the page path over image files, with its report."""
