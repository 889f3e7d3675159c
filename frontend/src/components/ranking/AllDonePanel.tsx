/** Shown when the project has no set left for this annotator. */

export function AllDonePanel({ onCheckAgain }: { onCheckAgain: () => void }) {
  return (
    <section className="all-done panel" aria-labelledby="done-heading">
      <h2 id="done-heading">All done</h2>
      <p>There are no more sets for you to rank in this project right now. Thank you!</p>
      <p>
        <button type="button" onClick={onCheckAgain}>Check again</button>{" "}
        <a href="#/projects">Back to the projects</a>
      </p>
    </section>
  );
}
