# Two commands do everything on a fresh machine:
#   make notebook   set up .venv, then run MNIST_Handwritten_Digits.ipynb top to bottom (full mode)
#   make test       set up .venv, then lint, unit tests, fast notebook run, notebook checks
# Offline? Point MNIST_LOCAL at a folder holding the four original .gz files:
#   MNIST_LOCAL=../shared/mnist make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup notebook test bench clean
setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

notebook: setup
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.timeout=-1 MNIST_Handwritten_Digits.ipynb

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m mnist_digits bench --max-epochs 12

clean:
	rm -rf runs .pytest_cache .ruff_cache .hypothesis
