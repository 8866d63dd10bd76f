# Two commands on a fresh machine:  `make demo` (main job)  and  `make test`.
# Both create the virtual environment .venv on first use.
PYTHON  ?= python3.11
VENV    := .venv
PY      := $(VENV)/bin/python
PROFILE ?= quick
DATASET ?= mnist

.PHONY: demo test lab lint format student-notebooks benchmarks notebook clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

demo: $(VENV)/.installed
	$(PY) -m minilvdm demo --profile $(PROFILE) --dataset $(DATASET)

# Unit tests, then every notebook under nbval in the ci profile, in one pytest run.
test: $(VENV)/.installed
	MINILVDM_PROFILE=ci MPLBACKEND=Agg $(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider

lab: $(VENV)/.installed
	$(VENV)/bin/jupyter lab notebooks

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

# Execute one notebook in place in a profile and save it (outputs committed from quick runs).
NB ?= 05_latent_video_diffusion
notebook: $(VENV)/.installed
	MINILVDM_PROFILE=$(PROFILE) $(PY) scripts/run_notebook.py notebooks/$(NB).ipynb

student-notebooks: $(VENV)/.installed
	$(PY) -m minilvdm student-notebooks

benchmarks: $(VENV)/.installed
	$(PY) -m benchmarks all

clean:
	rm -rf outputs
