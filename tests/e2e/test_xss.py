"""Untrusted text (model output, prompts, guidelines, names) full of XSS payloads is shown as
text or harmless markup: no dialog opens, no script runs, no request leaves for another origin."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from annotation.services.imports import candidate_sets_import
from annotation.services.projects import project_create
from annotation.services.users import user_create

from .support import PASSWORD, card, open_workspace

pytestmark = pytest.mark.django_db(transaction=True)

EVIL = "https://evil.example"
PAYLOADS = [
    "<script>window.__xss = 1; alert(1)</script>",
    '<img src=x onerror="window.__xss=1;alert(1)">',
    f'<img src="{EVIL}/pixel.png">',
    '<svg onload="window.__xss=1;alert(1)"><circle r="5"/></svg>',
    "<svg><script>window.__xss=1</script></svg>",
    '<iframe src="javascript:window.__xss=1;alert(1)"></iframe>',
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    f'<iframe src="{EVIL}/frame"></iframe>',
    "[click me](javascript:window.__xss=1;alert(1))",
    "[mixed case](JaVaScRiPt:window.__xss=1)",
    "[entity](&#106;avascript:window.__xss=1)",
    "[spaced](  javascript:window.__xss=1  )",
    "[data url](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[vbscript](vbscript:msgbox(1))",
    f"![remote image]({EVIL}/track.png)",
    '![tricky](x" onerror="window.__xss=1)',
    "![data image](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "[ref link][r]\n\n[r]: javascript:window.__xss=1",
    '<a href="javascript:window.__xss=1">raw html link</a>',
    '<div onmouseover="window.__xss=1">hover me</div>',
    "<body onload=window.__xss=1>",
    "<details open ontoggle=window.__xss=1><summary>x</summary></details>",
    "<input autofocus onfocus=window.__xss=1>",
    '<object data="javascript:window.__xss=1"></object>',
    f'<embed src="{EVIL}/x.swf">',
    f"<link rel=stylesheet href={EVIL}/x.css>",
    f"<style>@import '{EVIL}/x.css'; body {{ background: url({EVIL}/bg.png) }}</style>",
    f'<meta http-equiv="refresh" content="0;url={EVIL}">',
    f'<form action="{EVIL}"><button>go</button></form>',
    '<video><source onerror="window.__xss=1"></video>',
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>",
    "&lt;script&gt;window.__xss=1&lt;/script&gt; &#60;img src=x onerror=window.__xss=1&#62;",
    "`<script>window.__xss=1</script>` in inline code",
    "```html\n<script>window.__xss=1</script>\n<img src=x onerror=window.__xss=1>\n```",
    f"A plain link <{EVIL}/autolink> and {EVIL}/linkified",
    "<a href='https://example.org' onclick='window.__xss=1'>safe href, evil handler</a>",
]
K = 9


def candidate_texts() -> list[str]:
    """The payloads spread over K responses; the first says which payload it starts with."""
    texts = [[] for _ in range(K)]
    for i, payload in enumerate(PAYLOADS):
        texts[i % K].append(payload)
    return [f"Response with payloads {i}\n\n" + "\n\n".join(t) for i, t in enumerate(texts)]


def test_xss_payloads_in_prompts_responses_and_guidelines_never_run(live_server, page: Page):
    user_create(username="ann", password=PASSWORD, role="annotator")
    project = project_create(
        name="<script>window.__xss=1</script> project",
        k=K,
        guidelines="\n\n".join(PAYLOADS[:12]),
        criteria={"flags": ['<img src=x onerror="window.__xss=1">']},
    )
    messages = [
        {"role": "user", "content": PAYLOADS[0] + "\n\n" + PAYLOADS[8]},
        {"role": "assistant", "content": PAYLOADS[1] + "\n\n" + PAYLOADS[14]},
        {"role": "user", "content": PAYLOADS[3] + "\n\n" + PAYLOADS[18]},
    ]
    candidate_sets_import(
        project=project,
        rows=[(1, {"messages": messages, "candidates": [{"text": t} for t in candidate_texts()]})],
    )

    dialogs: list[str] = []
    requests: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: requests.append(request.url))

    open_workspace(page, live_server.url, "ann", project.pk)
    expect(page.locator(".response-card")).to_have_count(K)
    # The payloads show as text.
    expect(page.locator(".prompt-view")).to_contain_text(PAYLOADS[0])
    expect(page.locator(".workspace")).to_contain_text('<svg onload="window.__xss=1;alert(1)">')

    # Read everything: expand each long response, hover and click into every rendered block,
    # compare two responses side by side.
    for button in page.get_by_role("button", name="Show all").all():
        button.click()
    expect(page.get_by_role("button", name="Show all")).to_have_count(0)  # layout settled
    for block in page.locator(".markdown").all():
        block.hover()
    card(page, 1).click(position={"x": 5, "y": 5})
    page.keyboard.press("c")
    page.keyboard.press("2")
    page.keyboard.press("c")
    expect(page.locator("dialog.compare-view")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("dialog.compare-view")).to_have_count(0)
    page.wait_for_timeout(300)

    assert page.evaluate("() => window.__xss") is None
    assert page.evaluate("() => typeof parent.__xss") == "undefined"
    assert dialogs == []
    foreign = [url for url in requests if not url.startswith(live_server.url + "/")]
    assert foreign == []

    rendered = page.locator(".markdown")
    dangerous = (
        "script, img, svg, math, iframe, object, embed, style, link, meta, form, input, video, "
        "source, details, body"
    )
    assert rendered.locator(dangerous).count() == 0
    for attrs in page.locator(".markdown a").evaluate_all(
        "links => links.map(a => ['href', 'rel', 'onclick'].map(name => a.getAttribute(name)))"
    ):
        href, rel, onclick = attrs
        assert href is None or href.startswith(("http://", "https://", "mailto:")), href
        assert rel == "noopener noreferrer nofollow"
        assert onclick is None
    handlers = page.locator(".workspace *").evaluate_all(
        """els => els.flatMap(e => Array.from(e.attributes)
                                     .filter(a => a.name.startsWith('on')).map(a => a.name))"""
    )
    assert handlers == []
