/** Untrusted markdown, rendered and sanitised by ../../markdown.ts before it reaches the page. */

import { useMemo } from "react";
import { renderMarkdown } from "../../markdown";

export function Markdown({ source, className, id }: { source: string; className?: string | undefined; id?: string | undefined }) {
  const html = useMemo(() => renderMarkdown(source), [source]);
  return (
    <div
      id={id}
      className={`markdown${className ? ` ${className}` : ""}`}
      // Sanitised by DOMPurify with an allow-list in renderMarkdown.
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
}
