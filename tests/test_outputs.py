import base64
import io

from PIL import Image

from seer.outputs import ansi_free, html_to_text, render_outputs


def image_b64(fmt: str, size: tuple[int, int] = (8, 8)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format=fmt)
    return base64.b64encode(buffer.getvalue()).decode()


def test_errors_lose_their_colour_codes() -> None:
    error = {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": ["\x1b[0;31mValueError\x1b[0m: bad"]}
    shown = render_outputs([error], max_chars=1000, max_images=4, where="cell 0")
    assert shown.text.strip() == "ValueError: bad"
    assert ansi_free("\x1b[1;32mok\x1b[0m") == "ok"


def test_html_tables_become_rows_of_cells() -> None:
    html = "<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table><script>x()</script>"
    assert html_to_text(html) == "a | b\n1 | 2"


def test_html_is_used_only_when_the_plain_text_is_a_bare_repr() -> None:
    html_object = {"output_type": "display_data", "data": {"text/plain": "<IPython.core.display.HTML object>", "text/html": "<b>bold</b> move"}}
    frame = {"output_type": "execute_result", "data": {"text/plain": "   a\n0  1", "text/html": "<table/>"}, "execution_count": 1}
    shown = render_outputs([html_object, frame], max_chars=1000, max_images=4, where="cell 0")
    assert shown.text == "bold move\n   a\n0  1\n"


def test_jpeg_becomes_png_and_huge_images_shrink() -> None:
    outputs = [
        {"output_type": "display_data", "data": {"image/jpeg": image_b64("JPEG")}},
        {"output_type": "display_data", "data": {"image/png": image_b64("PNG", (4000, 100))}},
    ]
    shown = render_outputs(outputs, max_chars=1000, max_images=4, where="cell 0")
    sizes = [Image.open(io.BytesIO(png)).size for png in shown.images]
    assert [png[:8] for png in shown.images] == [b"\x89PNG\r\n\x1a\n"] * 2
    assert sizes[0] == (8, 8) and max(sizes[1]) == 1568


def test_long_text_is_cut_in_the_middle_with_a_pointer_to_the_full_output() -> None:
    text = "".join(f"line {i}\n" for i in range(100_000))
    shown = render_outputs([{"output_type": "stream", "name": "stdout", "text": text}], max_chars=2000, max_images=4, where="cell 7 of notebook.ipynb")
    assert shown.text.startswith("line 0\n") and shown.text.endswith("line 99999\n")
    assert f"{len(text) - 2000:,} characters elided; the full output is in cell 7 of notebook.ipynb" in shown.text
    assert len(shown.text) < 2200


def test_images_past_the_limit_are_counted_not_sent() -> None:
    png = {"output_type": "display_data", "data": {"image/png": image_b64("PNG")}}
    shown = render_outputs([png] * 30, max_chars=1000, max_images=8, where="cell 3")
    assert len(shown.images) == 8 and shown.omitted_images == 22
    assert "22 more image(s) not shown; all are in cell 3" in shown.text
