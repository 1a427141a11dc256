/** Debian's Chromium, installed by `.ci/run` with apt: a browser is never downloaded. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Headless and quiet: without the background-networking flags Chromium keeps dialling Google's hosts, which
 * this closed network refuses.
 */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
