"""Break each guarantee of the README's table on purpose, in a scratch copy, and run the test
the table names: every row must turn it red. Prints one line per fault (PASS = the test caught
it). Needs MNIST (data/ or MNIST_LOCAL) for the rows checked end to end.

Run: python tools/break_guarantees.py
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (guarantee, file, text, replacement, tests that must fail)
FAULTS = [
    ("wrong data: no check after torchvision has read the files", "mnist_digits/data.py",
     "    check_dataset(images, labels, train, raw)\n", "",
     "tests/test_data.py::test_load_mnist_refuses_well_formed_files_with_the_wrong_count"),
    ("wrong data: no check before torchvision reads the files", "mnist_digits/data.py",
     "    check_present(raw)\n", "",
     "tests/test_integrity.py::test_truncated_unpacked_file_is_caught_before_torchvision_reads_it"),
    ("broken-off download: the partial archive is kept", "mnist_digits/data.py",
     "        remove_unverified(raw)", "        pass",
     "tests/test_data.py::test_a_download_that_breaks_off_leaves_no_archive_behind"),
    ("broken-off copy: written straight to the final name", "mnist_digits/data.py",
     "shutil.copyfile(local / f, tmp)", "shutil.copyfile(local / f, raw / f)",
     "tests/test_data.py::test_an_interrupted_local_copy_leaves_no_file_behind"),
    ("broken-off copy: the .part file is left behind", "mnist_digits/data.py",
     "                    tmp.unlink(missing_ok=True)", "                    pass",
     "tests/test_data.py::test_an_interrupted_local_copy_leaves_no_file_behind"),
    ("checkpoints run code: weights_only=False", "mnist_digits/lesson.py",
     "weights_only=True, map", "weights_only=False, map",
     "tests/test_checkpoints.py::test_pickled_code_is_refused_and_never_runs"),
    ("checkpoints say what they hold: the digest is not checked", "mnist_digits/checkpoints.py",
     "    if weights_digest(state) != meta[\"sha256\"]:", "    if False:",
     "tests/test_checkpoints.py::test_altered_weights_fail_the_digest"),
    ("atomic saves: torch.save straight to the target", "mnist_digits/lesson.py",
     "        with open(part, \"wb\") as f:", "        with open(path, \"wb\") as f:",
     "tests/test_checkpoints.py::test_interrupted_overwrite_keeps_the_earlier_file_byte_for_byte"),
    ("same seed, same result: the model's weights are not seeded", "mnist_digits/lesson.py",
     "    torch.manual_seed(cfg.seed)\n", "",
     "tests/test_train.py::test_same_seed_gives_identical_weights_and_metrics"),
    ("committed weights: evaluate's normalisation 1% off", "mnist_digits/cli.py",
     "    x = normalise(images, mean, std)", "    x = normalise(images, mean * 1.01, std)",
     "tests/test_smoke.py::test_committed_weights_reproduce_their_accuracy"),
    ("precision: bf16 wherever asked for auto", "mnist_digits/lesson.py",
     "    if cfg.precision not in PRECISIONS or cfg.layout not in LAYOUTS:",
     "    cfg = replace(cfg, precision='bf16') if cfg.precision == 'auto' else cfg\n"
     "    if cfg.precision not in PRECISIONS or cfg.layout not in LAYOUTS:",
     "tests/test_hardware.py"),
    ("one copy of every line: lesson.py edited by hand", "mnist_digits/lesson.py",
     "    return torch.load(f, weights_only=True", "    return torch.load(f,  weights_only=True",
     "tests/test_export.py"),
    ("bad input: prepare's errors no longer name the file", "mnist_digits/reading/photo.py",
     "        raise MnistError(f\"{name}: {e}\") from None", "        raise",
     "tests/test_fuzz.py::test_prepare_on_real_image_files"),
    ("bad input: the command line lets MnistError through", "mnist_digits/cli.py",
     "    except MnistError as e:\n        print",
     "    except ZeroDivisionError as e:\n        print",
     "tests/test_fuzz.py::test_cli_fuzzed_command_lines_end_in_one_clear_error"),
    ("notebook: a printed accuracy that is not the weights'", "MNIST_Handwritten_Digits.ipynb",
     "best CNN     test accuracy 99.67%", "best CNN     test accuracy 99.68%",
     "tests/test_notebook.py::test_printed_test_figures_are_the_committed_weights"),
    ("notebook: a warning on stderr", "MNIST_Handwritten_Digits.ipynb",
     '"name": "stdout"', '"name": "stderr"',
     "tests/test_notebook.py::test_readable_when_rendered_statically"),
    ("no network in tests: pytest-socket off", "pyproject.toml",
     "--disable-socket --allow-unix-socket", "",
     "tests/test_data.py::test_the_tests_cannot_reach_the_network"),
    ("CI: a missing MNIST copy skips instead of failing", "tests/conftest.py",
     "            pytest.fail(f\"{why}; CI must run the end-to-end tests\", pytrace=False)",
     "            pytest.skip(why)", "tests/test_ci_guards.py"),
    ("serve: uploads over the limit are read", "mnist_digits/reading/serve.py",
     "        if isinstance(body, int):", "        if False:",
     "tests/test_serve.py::test_uploads_over_the_limit_are_refused_unread"),
    ("wrong data: unpacked files' SHA-256 not compared", "mnist_digits/integrity.py",
     "    if digest != SHA256[name]:", "    if False:",
     "tests/test_integrity.py::test_a_changed_byte_in_real_mnist_is_refused_by_load_and_evaluate"),
    ("checkpoints: a zip bomb is unpacked", "mnist_digits/checkpoints.py",
     "    check_size(path)\n", "",
     "tests/test_hostile_checkpoints.py"),
    ("checkpoints: NaN weights accepted", "mnist_digits/checkpoint_guards.py",
     "    if t.is_floating_point() and not torch.isfinite(t).all():", "    if False:",
     "tests/test_hostile_checkpoints.py"),
    ("train: a save that fails after training loses the model", "mnist_digits/cli.py",
     "        rescued = rescue_checkpoint(model, meta)", "        rescued = None",
     "tests/test_hostile_checkpoints.py"),
    ("hostile images: any format Pillow opens (EPS starts Ghostscript)",
     "mnist_digits/reading/images.py",
     "Image.open(source, formats=FORMATS)", "Image.open(source)",
     "tests/test_hostile.py::test_documents_are_refused_by_content_and_start_no_program"),
    ("hostile images: the pixel limit raised a hundredfold", "mnist_digits/reading/images.py",
     "MAX_PIXELS = 40_000_000", "MAX_PIXELS = 4_000_000_000",
     "tests/test_hostile.py::test_the_pixel_limit_is_the_real_one"),
    ("hostile images: decoded size not checked from the header", "mnist_digits/reading/images.py",
     "    if decoded_bytes(img) > MAX_DECODED:", "    if False:",
     "tests/test_hostile.py::test_decoded_bytes_are_checked_from_the_header"),
    ("file names: printed as they are", "mnist_digits/reading/predict.py",
     "print(printable(format_line(r)))", "print(format_line(r))",
     "tests/test_hostile.py::test_predict_prints_odd_file_names_on_one_line_each"),
    ("serve: other websites may post", "mnist_digits/reading/serve_guards.py",
     "        if (origin is not None", "        if False and (origin is not None",
     "tests/test_serve_hostile.py"),
    ("serve: any Host header is answered (DNS rebinding)", "mnist_digits/reading/serve_guards.py",
     "        if name not in self.names", "        if False and name not in self.names",
     "tests/test_serve_hostile.py"),
    ("serve: listens on every network by default", "mnist_digits/cli.py",
     'p.add_argument("--host", default="127.0.0.1"', 'p.add_argument("--host", default="0.0.0.0"',
     "tests/test_serve_hostile.py::test_the_default_host_is_this_computer_only"),
    ("serve: a stalled upload is waited for forever", "mnist_digits/reading/serve.py",
     "    async with asyncio.timeout(BODY_SECONDS):", "    async with asyncio.timeout(None):",
     "tests/test_serve_hostile.py::test_an_upload_that_stalls_times_out"),
    ("frame-filling digits: refused after one polarity", "mnist_digits/reading/ink.py",
     "        for y in (x, -x):\n            try:", "        for y in (x,):\n            try:",
     "tests/test_frame_filling.py"),
]


def copy_tree(dst: Path) -> None:
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        if (ROOT / f).is_file():
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, dst / f)
    (dst / "data").mkdir(exist_ok=True)
    (dst / "data/MNIST").symlink_to(ROOT / "data/MNIST", target_is_directory=True)


def caught(work: Path, file: str, text: str, new: str, tests: str) -> bool:
    path = work / file
    original = path.read_text()
    assert original.count(text) >= 1, f"{file}: fault site not found: {text!r}"
    path.write_text(original.replace(text, new, 1))
    try:
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                            *tests.split()], cwd=work, capture_output=True, text=True,
                           env={**os.environ, "CI": "true"})
        return r.returncode == 1  # tests ran and failed (not a collection or usage error)
    finally:
        path.write_text(original)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        copy_tree(work)
        results = [(row, caught(work, *fault)) for row, *fault in FAULTS]
    for row, ok in results:
        print(f"{'PASS' if ok else 'MISSED'}  {row}")
    print(f"{sum(ok for _, ok in results)} of {len(results)} faults caught")
    return 0 if all(ok for _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
