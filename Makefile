# Two commands do everything on a fresh machine (without make: python tasks.py notebook|test):
#   make notebook   set up .venv, then run MNIST_Handwritten_Digits.ipynb top to bottom (full mode)
#   make test       set up .venv, then lint, unit tests, fast notebook run, notebook checks
#   make lab        set up .venv, then open the notebook in JupyterLab, in the project's kernel
#   make mutate     mutation testing of the guarantee modules (mutmut) -> results/mutation.txt
# Offline? Point MNIST_LOCAL at a folder holding the four original .gz files:
#   MNIST_LOCAL=../shared/mnist make test
PYTHON ?= python3

.PHONY: setup notebook test lab mutate bench clean
setup notebook test lab mutate:
	$(PYTHON) tasks.py $@

bench: setup
	.venv/bin/python -m mnist_digits bench --max-epochs 12

clean:
	rm -rf runs mutants .pytest_cache .ruff_cache .hypothesis
