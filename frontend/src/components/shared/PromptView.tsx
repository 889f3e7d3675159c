/** The prompt: one message as text, a multi-turn conversation as a chat. */

import { type Message, roleLabel } from "../../task";
import { Markdown } from "./Markdown";

export function PromptView({ messages }: { messages: Message[] }) {
  return (
    <section className="prompt-view panel" aria-labelledby="prompt-heading">
      <h2 id="prompt-heading">{messages.length > 1 ? "Conversation" : "Prompt"}</h2>
      <ol className="chat">
        {messages.map((message, i) => (
          <li key={i} className={`chat-message role-${message.role === "user" ? "user" : message.role === "assistant" ? "assistant" : "other"}`}>
            <span className="chat-role">{roleLabel(message.role)}</span>
            <Markdown source={message.content} />
          </li>
        ))}
      </ol>
    </section>
  );
}
