"""The classroom tool in Chromium: a trained run and the model in use survive reloads (en and
zh) and stay out of another browser's reach; one zip takes the work to a fresh browser, a bad
zip gets a message; a teacher's link opens the same view in a fresh browser with the chosen
controls hidden on every page; a lesson plan steps through its pages."""
from urllib.parse import parse_qsl, urlsplit

from tests.browser.helpers import (AXE, ARTIFACTS, download, full_screenshot,
                                   page_problems, serious_accessibility_problems, wait_for_app,
                                   watched_page)
from tests.browser.test_training import TRAINING_WORDS

SIDEBAR = '[data-testid="stSidebar"]'
WORK = {"en": {"heading": "Your work", "download": "Download all my work (.zip)",
               "kept": "kept from an earlier visit", "none": "No run yet.",
               "bad": "That zip was not restored", "back": "Your work is back: 1 runs"},
        "zh": {"heading": "我的作品", "download": "下载我的全部作品（.zip）",
               "kept": "上次访问时保存的", "none": "还没有训练。"}}


def new_page(browser):
    return watched_page(browser.new_context(viewport={"width": 1400, "height": 1000}))


def train_tiny(pg, words, steps: int = 60) -> None:
    pg.locator('[data-testid="stSelectbox"]').filter(has_text=words["preset"]).click()
    pg.get_by_role("option", name=words["tiny"]).click()
    pg.wait_for_timeout(1000)
    box = pg.get_by_role("spinbutton", name=words["steps"])
    box.fill(str(steps))
    box.press("Enter")
    pg.wait_for_timeout(1000)
    pg.get_by_role("button", name=words["start"]).click()
    pg.wait_for_selector(f"text={words['finished'].replace('600', str(steps))}", timeout=120_000)


def open_work_box(pg, lang: str) -> None:
    pg.locator(SIDEBAR).get_by_text(WORK[lang]["heading"], exact=True).click()
    pg.wait_for_timeout(500)


def hide_in_the_link(pg, control: str, tries: int = 2) -> None:
    """Pick a control to hide in the sidebar's link box and wait for the link to say so. Under
    load (a training another session left running) a click on the open list was seen lost: the
    list closed and nothing was picked. A teacher picks it again; so does this test, once."""
    for attempt in range(tries):
        pg.locator(f'{SIDEBAR} [data-testid="stMultiSelect"]').click()
        pg.keyboard.type(control[:10])           # the list is long: filter it, as a teacher would
        pg.get_by_role("option", name=control).click()
        pg.keyboard.press("Escape")
        try:   # the link is redrawn by the rerun the choice starts
            pg.wait_for_function(f"""() => [...document.querySelectorAll(
                '{SIDEBAR} [data-testid="stCode"]')].some(c => c.innerText.includes('hide='))""",
                                 timeout=10_000)
            return
        except Exception:                       # noqa: BLE001 -- the caller's assert says why
            if attempt == tries - 1:
                return


def test_work_survives_reloads_and_travels_only_by_its_address_or_a_zip(live_app, browser, tmp_path):
    en, zh = TRAINING_WORDS["en"], TRAINING_WORDS["zh"]
    pg = new_page(browser)
    pg.goto(f"{live_app}/training?lang=en")
    wait_for_app(pg)
    train_tiny(pg, en)
    pg.get_by_role("button", name=en["use"]).click()
    pg.wait_for_selector(f'{SIDEBAR} >> text={en["run"]}', timeout=30_000)
    learner = dict(parse_qsl(urlsplit(pg.url).query))["learner"]

    pg.reload()                                     # F5: the run and the model are still there
    wait_for_app(pg)
    pg.wait_for_selector(f"text={WORK['en']['kept']}", timeout=30_000)
    assert pg.locator(SIDEBAR).get_by_text(en["run"]).count() >= 1

    pg.locator(SIDEBAR).locator('[data-testid="stSelectbox"]').first.click()   # the language
    pg.get_by_role("option", name="简体中文").click()
    pg.wait_for_selector("h1:has-text('训练')", timeout=30_000)
    pg.reload()                                     # the language is kept too
    wait_for_app(pg)
    pg.wait_for_selector(f"text={WORK['zh']['kept']}", timeout=30_000)
    assert pg.locator(SIDEBAR).get_by_text(en["run"]).count() >= 1
    assert dict(parse_qsl(urlsplit(pg.url).query))["learner"] == learner
    open_work_box(pg, "zh")
    full_screenshot(pg, ARTIFACTS / "classroom-work-zh.png")
    if AXE.exists():                                # the open box passes the accessibility check
        assert not serious_accessibility_problems(pg), serious_accessibility_problems(pg)
    work_zip = download(pg, WORK["zh"]["download"], tmp_path / "work.zip")
    assert not page_problems(pg), page_problems(pg)

    other = new_page(browser)                        # another visitor: nothing of the first's
    other.goto(f"{live_app}/training?lang=en")
    wait_for_app(other)
    other.wait_for_selector(f"text={WORK['en']['none']}", timeout=30_000)
    assert other.locator(SIDEBAR).get_by_text(en["run"]).count() == 0
    assert learner not in other.url
    open_work_box(other, "en")
    bad_zip = tmp_path / "bad.zip"
    bad_zip.write_bytes(b"PK\x03\x04 this is not a zip")
    uploader = other.locator(f'{SIDEBAR} [data-testid="stFileUploaderDropzoneInput"]')
    uploader.set_input_files(str(bad_zip))
    other.wait_for_selector(f"text={WORK['en']['bad']}", timeout=30_000)
    uploader.set_input_files(str(work_zip))          # the zip brings the work back
    other.wait_for_selector(f"text={WORK['en']['back']}", timeout=30_000)
    full_screenshot(other, ARTIFACTS / "classroom-work-en.png")
    other.wait_for_selector(f"text={WORK['en']['kept']}", timeout=30_000)
    assert not page_problems(other), page_problems(other)


def test_teacher_link_hides_controls_and_a_plan_steps_through(live_app, browser):
    teacher = new_page(browser)
    teacher.goto(f"{live_app}/softmax?lang=zh")
    wait_for_app(teacher)
    teacher.locator(SIDEBAR).get_by_text("这个视图的链接", exact=True).click()
    hide_in_the_link(teacher, "shipped_model")
    link = teacher.locator(f'{SIDEBAR} [data-testid="stCode"]').last.inner_text().strip()
    full_screenshot(teacher, ARTIFACTS / "classroom-link-zh.png")
    if AXE.exists():
        assert not serious_accessibility_problems(teacher), serious_accessibility_problems(teacher)
    assert "hide=shipped_model" in link and "learner" not in link, link
    teacher_id = dict(parse_qsl(urlsplit(teacher.url).query))["learner"]
    assert teacher_id not in link

    pupil = new_page(browser)                        # a fresh browser opens the link
    pupil.goto(link)
    wait_for_app(pupil)
    assert pupil.locator("h1").first.inner_text().startswith("Softmax 与交叉熵")
    assert pupil.locator(".st-key-shipped_model").count() == 1
    pupil.wait_for_selector(".st-key-shipped_model", state="hidden", timeout=10_000)
    assert pupil.locator(".st-key-lang").is_visible()
    pupil.locator('[data-testid="stSidebarNav"] a').nth(1).click()       # another page
    pupil.wait_for_selector("h1:has-text('词元切分')", timeout=30_000)
    wait_for_app(pupil)
    pupil.wait_for_timeout(1000)
    assert not pupil.locator(".st-key-shipped_model").is_visible()     # hidden stays hidden
    assert "hide=shipped_model" in pupil.url
    assert not page_problems(pupil), page_problems(pupil)

    for lang, next_label, first_title, second_title in (("en", "Next", "LLM Explorer", "Tokenisation"),
                                                          ("zh", "下一步", "LLM Explorer", "词元切分")):
        tour = new_page(browser)
        tour.goto(f"{live_app}/?plan=intro-45&lang={lang}")
        wait_for_app(tour)
        tour.wait_for_selector(".st-key-tour_box", timeout=30_000)
        assert first_title in tour.locator("h1").first.inner_text()
        full_screenshot(tour, ARTIFACTS / f"classroom-tour-{lang}.png")
        tour.get_by_role("button", name=next_label).click()
        tour.wait_for_selector(f"h1:has-text('{second_title}')", timeout=30_000)
        assert "step=2" in tour.url
        assert not page_problems(tour), page_problems(tour)
