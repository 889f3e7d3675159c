/** A set a reviewer sent back to this annotator: their comment, above the board (as text). */

export function SentBackNotice({ comment }: { comment: string }) {
  return (
    <section className="notice notice-warning sent-back" aria-labelledby="sent-back-heading">
      <h2 id="sent-back-heading">Sent back by a reviewer</h2>
      <p className="sent-back-comment">{comment}</p>
      <p className="hint">Rank this set again; your new ranking replaces the one sent back.</p>
    </section>
  );
}
