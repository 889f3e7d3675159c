/**
 * Markdown from untrusted sources (model output, prompts, guidelines) → sanitised HTML.
 *
 * Two layers: markdown-it with raw HTML disabled (tags in the text come out as text), links
 * limited to http, https and mailto, and images not parsed at all (no request ever leaves for
 * another origin); then DOMPurify with an allow-list of tags and attributes, which also drops
 * any href that is not http(s)/mailto and gives every link rel="noopener noreferrer nofollow".
 * Code blocks are highlighted by highlight.js (a handful of common languages).
 */

import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import MarkdownIt from "markdown-it";

const LANGUAGES = { bash, cpp, css, go, java, javascript, json, python, rust, sql, typescript, xml, yaml };
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);

export const SAFE_HREF = /^(https?:|mailto:)/i;

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

const md: MarkdownIt = new MarkdownIt({
  html: false,
  linkify: true,
  typographer: false,
  highlight(code, lang) {
    const language = lang && hljs.getLanguage(lang) ? lang : null;
    if (language === null) return ""; // markdown-it escapes it
    try {
      return hljs.highlight(code, { language, ignoreIllegals: true }).value;
    } catch {
      return escapeHtml(code);
    }
  },
});
md.disable("image");
md.validateLink = (url: string) => SAFE_HREF.test(url.trim());
// The page owns h1–h3; headings inside a response start at h4.
md.core.ruler.push("demote_headings", (state) => {
  for (const token of state.tokens) {
    if (token.type === "heading_open" || token.type === "heading_close") {
      const level = Number(token.tag.slice(1));
      token.tag = `h${Math.min(6, level + 3)}`;
    }
  }
  return true;
});

const ALLOWED_TAGS = [
  "p", "br", "hr", "h4", "h5", "h6", "strong", "em", "s", "del", "code", "pre", "blockquote",
  "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "span",
];
const SAFE_CLASS = /^(hljs(-[\w-]+)?|language-[\w+#.-]+)$/;

let hooked = false;
function installHooks(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook("afterSanitizeAttributes", (node) => {
    const element = node as Element;
    if (element.hasAttribute?.("class")) {
      const kept = (element.getAttribute("class") ?? "")
        .split(/\s+/)
        .filter((c) => SAFE_CLASS.test(c));
      if (kept.length) element.setAttribute("class", kept.join(" "));
      else element.removeAttribute("class");
    }
    // A code block may scroll sideways: keyboard users must be able to reach it to scroll.
    if (element.tagName === "PRE") element.setAttribute("tabindex", "0");
    if (element.tagName === "A") {
      const href = element.getAttribute("href") ?? "";
      if (!SAFE_HREF.test(href.trim())) element.removeAttribute("href");
      element.setAttribute("rel", "noopener noreferrer nofollow");
      element.setAttribute("target", "_blank");
    }
  });
}

/** Sanitised HTML for `source`, safe to put into the page. */
export function renderMarkdown(source: string): string {
  installHooks();
  const html = md.render(source);
  return DOMPurify.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR: ["href", "class", "start", "title", "rel", "target"],
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
  });
}

/** Whether a response is long enough to start collapsed. */
export function isLong(text: string): boolean {
  return text.length > 700 || text.split("\n").length > 14;
}
