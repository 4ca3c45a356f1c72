# Two commands do everything on a fresh clone with only Python and pip:
#   make demo   runs the demo on the embedded digits data set
#   make test   installs what is needed, runs the whole test suite and builds the docs
# Each creates its virtual environment(s) in the repository root when missing.
PYTHON ?= python3
VENV := .venv
OLDEST := .venv-oldest
PIP_FLAGS := --quiet --disable-pip-version-check
# Two modAL releases speak two query-strategy protocols; both are tested.
MODAL_VERSIONS := 0.4.1 0.4.2.1

.PHONY: test test-main test-modal docs demo bench clean

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install $(PIP_FLAGS) -c constraints.txt -e ".[dev,plot,dask,docs]"
	touch $@

# Lower bounds of every dependency, scikit-learn < 1.8 for modAL, and each
# modAL release in its own folder (modAL is pure Python). 0.4.2.1 pins
# skorch==0.9.0, which no longer imports: it is installed without its pins.
$(OLDEST)/.installed: pyproject.toml ci-constraints-oldest.txt
	test -x $(OLDEST)/bin/python || $(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install $(PIP_FLAGS) -c ci-constraints-oldest.txt -e ".[dev,plot]"
	for v in $(MODAL_VERSIONS); do \
	  $(OLDEST)/bin/python -m pip install $(PIP_FLAGS) --no-deps --target $(OLDEST)/modal-$$v "modAL-python==$$v" || exit 1; \
	done
	touch $@

test: test-main test-modal docs

# Everything but the modAL suite, on the newest scikit-learn, with doctests.
test-main: $(VENV)/.installed
	$(VENV)/bin/python -m pytest tests skbal --ignore=tests/modal

# The modAL suite once per modAL release, on the oldest supported versions.
test-modal: $(OLDEST)/.installed
	for v in $(MODAL_VERSIONS); do \
	  SKBAL_EXPECT_MODAL=$$v PYTHONPATH=$(CURDIR)/$(OLDEST)/modal-$$v \
	    $(OLDEST)/bin/python -m pytest tests/modal -p no:cacheprovider || exit 1; \
	done

# Sphinx, from scratch, warnings as errors; runs the examples/plot_*.py gallery.
docs: $(VENV)/.installed
	rm -rf docs/_build docs/generated docs/auto_examples docs/sg_execution_times.rst
	$(VENV)/bin/python -m sphinx -E -W --keep-going -q -b html docs docs/_build/html
	@echo "docs: docs/_build/html/index.html"

demo: $(VENV)/.installed
	$(VENV)/bin/python -m skbal

# skbal against baal and batchbald_redux, same data, same run (not part of
# the tests: speed is measured here, as ratios). BENCH_ARGS=--quick for a
# short smoke run.
bench:
	bash benchmarks/setup_env.sh
	.venv-bench/bin/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(OLDEST) .venv-bench .pytest_cache .hypothesis build *.egg-info \
	  docs/_build docs/generated docs/auto_examples docs/sg_execution_times.rst
