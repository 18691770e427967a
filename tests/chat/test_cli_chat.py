"""`tutor chat` and `tutor ingest` against a real running API, as a person would use them in a terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.chat.conftest import ChatCourse
from tests.conftest import REPO, settings_env
from tests.factories import course_pdf, sciq_chapters, unique_user
from tests.servers import api_server
from tutor.identity import mint_token
from tutor.settings import Settings


def test_tutor_chat_streams_answers_and_lists_citations(settings: Settings, course: ChatCourse) -> None:
    with api_server(settings) as api:
        question = course.items[3]["question"]
        done = subprocess.run(
            [sys.executable, "-m", "api.cli", "chat", str(course.course_id), "--api", api],
            input=f"{question}\n",
            env={**settings_env(settings), "COLUMNS": "200"},
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    assert course.items[3]["correct_answer"].lower() in done.stdout.lower()
    assert "biology.pdf, p." in done.stdout


def test_tutor_ingest_uploads_and_follows_the_job(
    settings: Settings, worker: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    pdf = tmp_path / "genetics.pdf"
    pdf.write_bytes(course_pdf(sciq_chapters(2, 2, 1, offset=60)))
    with api_server(settings) as api:
        done = subprocess.run(
            [sys.executable, "-m", "api.cli", "ingest", str(pdf), "--title", "Genetics", "--api", api],
            # A teacher of this run: the CLI's default one would share its hourly upload budget with every rerun.
            env={
                **settings_env(settings),
                "COLUMNS": "200",
                "TUTOR_TOKEN": mint_token(settings, unique_user("teacher-cli"), "teacher"),
            },
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().isdigit()  # the new course's id, for scripts
    assert "2 weeks" in done.stderr and "chunks" in done.stderr
