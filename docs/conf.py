"""Sphinx configuration: API reference from the numpydoc docstrings, and the
examples gallery (sphinx-gallery runs the ``examples/plot_*.py`` scripts).

Built by ``make docs`` with warnings as errors; nothing is fetched from the
network (no intersphinx).
"""

import os

import skbal

os.environ.setdefault("MPLBACKEND", "Agg")

project = "skbal"
release = skbal.__version__
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
autosummary_generate = True
numpydoc_show_class_members = False
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
templates_path = ["_templates"]
html_theme = "alabaster"

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",  # modal_batchbald_loop.py needs modAL: shown, not run
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
}
