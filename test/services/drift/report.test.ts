/// <reference lib="dom" />
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkDrift } from "../../../services/drift/check";
import { buildProfile } from "../../../services/drift/profile";
import { renderReport } from "../../../services/drift/report";
import { generator } from "./generate";

const g = generator(99);
const categories = (n: number, web: number) =>
  Array.from({ length: n }, () => (g.random() < web ? "web" : g.random() < 0.5 ? "pos" : "atm"));
const profile = buildProfile({
  rows: 3000,
  columns: { amount: g.normal(3000, 50, 10), channel: categories(3000, 0.2), age: g.ties(3000, 40) },
});
const result = checkDrift(
  profile,
  { rows: 2000, columns: { amount: g.normal(2000, 58, 12), channel: categories(2000, 0.6), age: g.ties(2000, 40) } },
  { model: "fraud-scorer" },
);
const html = renderReport(result);

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

describe("the HTML report", () => {
  it("is self-contained: no script and no external resource", () => {
    expect(html).not.toMatch(/<script|<link|src="http|href="http/i);
  });

  it("renders in Chromium with one chart per feature, each with visible bars, and is not blank", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith("data:") && r.url() !== "about:blank") requests.push(r.url());
    });
    await page.setContent(html, { waitUntil: "load" });
    const charts = await page.$$eval(
      "svg.chart",
      (svgs) =>
        svgs.filter((svg) => {
          const box = svg.getBoundingClientRect();
          const bars = Array.from(svg.querySelectorAll("rect.bar")).filter((r) => Number(r.getAttribute("height")) > 0);
          return box.width > 100 && box.height > 100 && bars.length > 0;
        }).length,
    );
    expect(charts).toBe(3);
    expect(await page.textContent(".verdict")).toMatch(/Dataset drift: 2 of 3 features drifted/);
    expect(await page.$$eval("tbody tr", (rows) => rows.length)).toBe(3);

    const screenshot = await page.screenshot({ fullPage: true });
    // Decode the PNG in the browser (canvas) and measure the variance of its pixels: a blank page has ~0.
    const probe = await browser.newPage();
    const stats = await probe.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const canvas = document.createElement("canvas");
      canvas.width = img.width;
      canvas.height = img.height;
      const ctx = canvas.getContext("2d")!;
      ctx.drawImage(img, 0, 0);
      const data = ctx.getImageData(0, 0, img.width, img.height).data;
      let sum = 0;
      let sumSq = 0;
      let orange = 0;
      const n = data.length / 4;
      for (let i = 0; i < data.length; i += 4) {
        const grey = (data[i]! + data[i + 1]! + data[i + 2]!) / 3;
        sum += grey;
        sumSq += grey * grey;
        if (data[i]! > 220 && data[i + 1]! > 110 && data[i + 1]! < 150 && data[i + 2]! < 60) orange++;
      }
      return { width: img.width, height: img.height, variance: sumSq / n - (sum / n) ** 2, orange };
    }, screenshot.toString("base64"));
    expect(stats.width).toBeGreaterThan(1000);
    expect(stats.variance).toBeGreaterThan(100);
    // The current-window bars (#f58518) were painted.
    expect(stats.orange).toBeGreaterThan(500);
    expect(requests).toEqual([]);
    await page.close();
    await probe.close();
  });
});
