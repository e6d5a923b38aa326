#!/usr/bin/env python3
"""The demo's HTML report as a reviewer reads it and an auditor prints it.

Runs `tenken demo` (real servers on loopback, every probe) twice into a temporary state
directory, re-renders the last scan in English, then:
  - prints both languages to PDF with headless Chromium and counts the A4 pages (<= 10);
  - reads the PDF text (pdftotext, poppler-utils) to show that the folded sections
    (<details>: the whole checklist, the per-target detail) are complete in print;
  - checks the order (verdict, counts, items that need action, the manual list, then the
    folded tables, then the appendix), labelled evidence (no raw JSON objects), one language
    per report, related standards paired in one cell, internal references only in the appendix;
  - "pass with warnings" told apart in report.json, HTML, CSV and JUnit;
  - the trend tells two same-day runs apart (time of day in labels and tooltips).
Skips the browser part, saying so, when chromium is not installed.
"""
import csv
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tkharness  # noqa: E402
from tkharness import Results, rmtree, tmpdir  # noqa: E402

CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]+")


def text_of(page):
    body = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def pdf_pages(pdf):
    data = open(pdf, "rb").read()
    return len(re.findall(rb"/Type\s*/Page[^s]", data))


def print_pdf(chromium, src, pdf):
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    "--print-to-pdf=" + pdf, "file://" + src], capture_output=True, timeout=180)
    return os.path.exists(pdf)


def main():
    R = Results()
    work = tmpdir()
    env = dict(os.environ, TENKEN_STATE_DIR=os.path.join(work, "state"))
    try:
        for i in (1, 2):  # two runs on the same day: the trend must tell them apart
            p = subprocess.run([tkharness.TENKEN, "demo", "--out", os.path.join(work, "demo"),
                                "--state", os.path.join(work, "state"),
                                "--format", "json,html,csv,junit"], capture_output=True, text=True, env=env,
                               timeout=600)
            R.check(p.returncode in (0, 1, 3) and os.path.exists(os.path.join(work, "demo", "report", "report.html")),
                    "demo run %d wrote its report (exit %d %s)" % (i, p.returncode, p.stderr[-300:]))
        out = os.path.join(work, "demo", "report")
        rep = json.load(open(os.path.join(out, "report.json")))
        partner = rep["partner"]["id"]
        en_out = os.path.join(work, "en")
        p = subprocess.run([tkharness.TENKEN, "report", partner, "--format", "html,csv,junit", "--lang", "en",
                            "--out", en_out], capture_output=True, text=True, env=env, timeout=120)
        R.check(p.returncode == 0, "English re-render (%s)" % p.stderr[-200:])
        ja = open(os.path.join(out, "report.html"), encoding="utf-8").read()
        en = open(os.path.join(en_out, "report.html"), encoding="utf-8").read()

        # --- pass with warnings, in every format ---
        warned = [it for it in rep["items"] if it.get("with_warnings")]
        R.check(warned and all(it["status"] == "pass" for it in warned)
                and rep["summary"]["items"]["pass_with_warnings"] == len(warned),
                "report.json: items that pass with only warnings carry with_warnings (%s)" % [it["no"] for it in warned])
        wno = str(warned[0]["no"]) if warned else "?"
        card = re.search(r'<section class="card c-pass_warn" id="act-%s">.*?</section>' % wno, ja, re.S)
        R.check(card is not None and "適合（注意あり）" in card.group(0), "HTML: item %s is shown as 適合（注意あり）" % wno)
        R.check(re.search(r'id="act-%s">.*?pass with warnings' % wno, en, re.S) is not None,
                "HTML (en): item %s is shown as pass with warnings" % wno)
        rows = list(csv.reader(io.StringIO(open(os.path.join(out, "checklist.csv"), encoding="utf-8-sig").read())))
        row = [r for r in rows if r and r[0] == wno]
        R.check(row and row[0][4].startswith("【自動点検: 適合（注意あり）】"), "CSV: item %s says 適合（注意あり）" % wno)
        ju = ET.parse(os.path.join(out, "junit.xml")).getroot()
        tc = [t for t in ju.iter("testcase") if t.get("name", "").startswith(wno + " ")]
        R.check(tc and tc[0].find("system-err") is not None and "注意" in (tc[0].find("system-out").text or ""),
                "JUnit: item %s passes with its warnings in system-err" % wno)

        # --- order and content for the reviewer ---
        pos = [ja.find(s) for s in ('class="verdict"', 'class="counts"', "<h2>要対応の項目", "<h2>接続先の回答が必要な項目",
                                    "<h2>項目状態の推移", "<details>", "対象別の詳細", "<h2>付録")]
        R.check(all(x >= 0 for x in pos) and pos == sorted(pos), "sections in reviewer order %s" % pos)
        failing = [str(it["no"]) for it in rep["items"] if it["status"] == "fail"]
        R.check(all('id="act-%s"' % n in ja for n in failing), "every failing item has an action card (%s)" % failing)
        first_card = re.search(r'<section class="card c-fail".*?</section>', ja, re.S).group(0)
        R.check("対応:" in first_card and "根拠:" in first_card and 'class="ev"' in first_card and "<td" in first_card,
                "a card has targets, labelled facts, remediation and basis")
        R.check("{" not in text_of(first_card) and not re.search(r"\.txt\b", text_of(first_card)),
                "a card shows no raw JSON and no seed file names")
        app = ja[ja.find("<h2>付録"):]
        R.check(re.search(r"\d{3}_[0-9a-f]{16}\.txt", app) is not None and "rules/" in app
                and not re.search(r"\d{3}_[0-9a-f]{16}\.txt", ja[:ja.find("<h2>付録")])
                and "rules/" not in text_of(ja[:ja.find("<h2>付録")]),
                "seed file names and rules/ paths only in the appendix")
        manual = ja[ja.find("<h2>接続先の回答が必要な項目"):ja.find("<h2>項目状態の推移")]
        nman = sum(1 for it in rep["items"] if it["status"] == "manual")
        R.check(manual.count("<tr>") == nman + 1 and "（未回答）" in manual,
                "manual items in one compact list asking for the answer (%d)" % nman)
        R.check("ハンドルされていない" not in ja and "no rule covers" not in text_of(ja) and "partner's answer" not in text_of(ja),
                "the Japanese report has no English reason notes")
        item1 = re.search(r'<tr class="r-manual" id="item-1">.*?</tr>', ja, re.S).group(0)
        R.check("FISC-安対基準　続4、続6、続7、続8" in text_of(item1), "related standard and its sections paired in one cell")
        # one language: English report has no Japanese but the partner's own name and FISC section ids (続4)
        leftovers = {m for m in CJK.findall(text_of(en)) if m not in rep["partner"].get("name", "")}
        ids = {m for m in leftovers if len(m) <= 2}
        R.check(not (leftovers - ids), "the English report has no Japanese text (left: %s)" % sorted(leftovers - ids)[:10])
        R.check(all(re.search(re.escape(m) + r"\d", text_of(en)) for m in ids), "... only section identifiers such as 続4 (%s)" % sorted(ids))
        R.check("html[lang=en] body{word-break:normal;overflow-wrap:normal" in en and ".tok{overflow-wrap:anywhere}" in en,
                "English: no mid-word breaks except in long tokens")
        # trend: two runs of the same day, told apart by time
        titles = re.findall(r"<g><title>([^<]*)</title>", ja)
        R.check(len(titles) == 2 and len(set(titles)) == 2 and all("JST" in t for t in titles),
                "trend tooltips carry date and time (%s)" % titles)
        labels = re.findall(r'<text x="[0-9.]+" y="\d+" font-size="9" text-anchor="middle">([^<]*)</text>', ja)
        R.check(len(labels) == 2 and len(set(labels)) == 2 and all(re.search(r"\d\d:\d\d:\d\d", x) for x in labels),
                "trend bar labels show the time, distinct for two runs a few seconds apart (%s)" % labels)

        # --- print ---
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if not chromium:
            print("SKIP print checks: chromium is not installed (apt-get install chromium)")
        else:
            for name, src in (("ja", os.path.join(out, "report.html")), ("en", os.path.join(en_out, "report.html"))):
                pdf = os.path.join(work, name + ".pdf")
                R.check(print_pdf(chromium, src, pdf), "%s: printed to PDF" % name)
                n = pdf_pages(pdf)
                R.check(0 < n <= 10, "%s: the demo's report prints on %d A4 pages (at most 10)" % (name, n))
                if shutil.which("pdftotext"):
                    txt = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True).stdout
                    target = sorted({f["target"] for f in rep["findings"]})[-1]
                    R.check(("対象別の詳細" in txt or "Per-target detail" in txt) and target.split("/")[0] in txt
                            and ("チェックリスト全項目" in txt or "whole checklist" in txt) and "44" in txt,
                            "%s: the folded sections are printed" % name)
                else:
                    print("SKIP pdftotext check: poppler-utils is not installed")
    finally:
        rmtree(work)
    R.finish()


if __name__ == "__main__":
    main()
