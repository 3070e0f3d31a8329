"""The petf2i command: every group registers, and input errors print one clean line."""

from __future__ import annotations

import json
import subprocess
import sys

from petf2i_core.cli.main import build_parser, main


def test_all_command_groups_register():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # argparse keeps subcommands here
    assert {"data", "models", "generate", "train", "evaluate", "study"} <= set(commands)


def test_bad_input_row_prints_clean_error(tmp_path, capsys):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"id": "1", "findings": "右肺结节", "impression": "", "prediction": "x"}, ensure_ascii=False) + "\n", encoding="utf-8")
    code = main(["evaluate", str(path), "--metrics", "bleu4", "--bootstrap", "0", "--out", str(tmp_path / "s.json")])
    error = capsys.readouterr().err
    assert code == 2
    assert "petf2i evaluate: error:" in error
    assert "rows.jsonl:1" in error
    assert "Traceback" not in error


def test_missing_study_config_exits_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "petf2i_core.cli.main", "study", "run", str(tmp_path / "nope.yaml")],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "configs/study/default.yaml" in result.stderr
