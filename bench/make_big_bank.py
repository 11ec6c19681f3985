"""Make a 5,000-question XLSX bank and time `banks import` of it.

    .venv/bin/python bench/make_big_bank.py [--questions 5000]

Writes bench/out/big-bank.xlsx, imports it into a throwaway SQLite database and prints the
figures (write, dry run, real import).
"""

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[1]
CATEGORIES = [
    "Chương trình tổng thể CCHC 2021–2030",
    "Thủ tục hành chính và cơ chế một cửa",
    "Công vụ, công chức",
    "Chính phủ điện tử và Đề án 06",
    "Chuyển đổi số quốc gia",
    "Chỉ số PAR INDEX, SIPAS, PAPI, PCI và DTI",
]


def make(path: Path, count: int) -> None:
    rng = random.Random(5000)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Câu hỏi")
    sheet.append(
        [
            "Chủ đề",
            "Mã",
            "Mức độ",
            "Câu hỏi",
            "A",
            "B",
            "C",
            "D",
            "Đáp án đúng",
            "Giải thích",
            "Nguồn",
        ]
    )
    for n in range(count):
        right = rng.choice("ABCD")
        sheet.append(
            [
                CATEGORIES[n % len(CATEGORIES)],
                f"big-{n:05d}",
                1 + n % 3,
                f"Câu hỏi thử số {n}: văn bản nào quy định nội dung số {n}?",
                *[f"Phương án {letter} của câu {n}" for letter in "ABCD"],
                right,
                f"Giải thích cho câu {n}.",
                f"Văn bản số {n}/QĐ-TTg",
            ]
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


def timed(*args: str, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=5000)
    options = parser.parse_args()
    path = ROOT / "bench" / "out" / "big-bank.xlsx"
    start = time.perf_counter()
    make(path, options.questions)
    print(f"wrote {options.questions:,} questions to {path} in {time.perf_counter() - start:.1f} s")
    with tempfile.TemporaryDirectory() as folder:
        import os

        env = {**os.environ, "QUIZAPP_DATABASE_URL": f"sqlite:///{folder}/bench.sqlite"}
        timed("db", "upgrade", env=env)
        dry = timed("banks", "import", str(path), "--bank", "Big", "--dry-run", env=env)
        real = timed("banks", "import", str(path), "--bank", "Big", env=env)
        again = timed("banks", "import", str(path), "--bank", "Big", env=env)
    print(
        f"banks import --dry-run: {dry:.1f} s; import: {real:.1f} s; "
        f"re-import (all unchanged): {again:.1f} s (each includes ~1 s of process start)"
    )


if __name__ == "__main__":
    main()
