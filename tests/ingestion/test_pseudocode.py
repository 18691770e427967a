"""Pseudocode set in a proportional font (a little smaller than the body, indented by level) is kept as a code
block with its lines and indentation; prose whose lines start with "if" or "for" stays prose."""

from __future__ import annotations

from fpdf import FPDF

from ingestion.pdf import parse_pdf

ALGORITHM = (
    (0, "Hanoi(n, src, dst, tmp):"),
    (1, "if n > 0"),
    (2, "Hanoi(n - 1, src, tmp, dst)"),
    (2, "move disk n from src to dst"),
    (2, "Hanoi(n - 1, tmp, dst, src)"),
)
PROSE = (
    "The puzzle is old. If the disks are stacked in order, the monks move one at a time; "
    "for each move they may not place a larger disk on a smaller one, and the legend says the world ends when "
    "they finish. If you try it with eight disks you will see why the recursion is the natural way to think."
)


def _book() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "1 Recursion", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(0, 6, PROSE, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "", 9.8)  # the algorithm is set in the body's font, smaller, indented in steps
    for depth, line in ALGORITHM:
        pdf.set_x(pdf.l_margin + 10 + 7 * depth)
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(0, 6, PROSE, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def test_proportional_pseudocode_is_a_code_block_with_its_indentation_and_prose_stays_prose() -> None:
    doc = parse_pdf(_book(), "recursion.pdf")
    paragraphs = [p for s in doc.sections for p in s.paragraphs]

    code = [p for p in paragraphs if p.kind == "code"]
    listing = "\n".join("    " * depth + line for depth, line in ALGORITHM)
    assert [p.text for p in code] == [f"```\n{listing}\n```"]
    assert [p.kind for p in paragraphs if p.text.startswith("The puzzle is old.")] == ["text", "text"]
