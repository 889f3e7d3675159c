/** One snapshot: its facts, its dataset card (markdown, sanitised) and, for admins, download
 * links for every export view, split and format (plain links: the session cookie goes along). */

import { useEffect, useState } from "react";
import type { Me } from "../../session";
import { EXPORT_FORMATS, EXPORT_SPLITS, EXPORT_VIEWS, countsText, exportHref } from "../../review/datasets";
import { dateTime } from "../../review/resource";
import { fetchDataset } from "../../review/reviewApi";
import { useLoaded } from "../../review/useLoaded";
import { LoadNotice } from "../shared/LoadNotice";
import { Markdown } from "../shared/Markdown";

export function DatasetCard({ datasetId, me, onSignedOut }: { datasetId: number; me: Me; onSignedOut: () => void }) {
  const [dataset] = useLoaded(() => fetchDataset(datasetId), `dataset-${datasetId}`, onSignedOut);
  const [fmt, setFmt] = useState<string>("jsonl");
  const d = dataset?.kind === "loaded" ? dataset.value : null;
  useEffect(() => {
    document.title = `${d ? d.name : `Dataset #${datasetId}`} · Flywheel`;
  }, [d, datasetId]);
  return (
    <section aria-labelledby="dataset-heading">
      <p className="breadcrumb">
        <a href="#/datasets">Dataset snapshots</a> ›
      </p>
      <h1 id="dataset-heading">{d ? d.name : `Dataset #${datasetId}`}</h1>
      {!d && <LoadNotice state={dataset} what="the snapshot" />}
      {d && (
        <>
          <p className="hint dataset-facts">
            #{d.id} · project <a href={`#/projects/${d.project}/dashboard`}>{d.project}</a> · {countsText(d.counts)} · test fraction{" "}
            {d.testFraction} · seed {d.seed} · created {dateTime(d.createdAt)} · hash <code>{d.contentHash.slice(0, 12)}</code>
          </p>
          {me.role === "admin" && (
            <section className="panel" aria-labelledby="downloads-heading">
              <h2 id="downloads-heading">Download</h2>
              <div className="field inline-field">
                <label htmlFor="export-format">Format</label>
                <select id="export-format" value={fmt} onChange={(e) => setFmt(e.target.value)}>
                  {EXPORT_FORMATS.map((f) => (
                    <option key={f}>{f}</option>
                  ))}
                </select>
              </div>
              <table className="data-table downloads">
                <thead>
                  <tr>
                    <th scope="col">View</th>
                    {EXPORT_SPLITS.map((s) => (
                      <th scope="col" key={s}>
                        {s}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {EXPORT_VIEWS.map((v) => (
                    <tr key={v}>
                      <th scope="row">{v}</th>
                      {EXPORT_SPLITS.map((s) => (
                        <td key={s}>
                          <a href={exportHref(d.id, v, s, fmt)} download aria-label={`Download ${v} ${s}.${fmt}`}>
                            {s}.{fmt}
                          </a>
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}
          <section className="panel dataset-card" aria-labelledby="card-heading">
            <h2 id="card-heading">Dataset card</h2>
            <Markdown source={d.card || "_No card._"} />
          </section>
        </>
      )}
    </section>
  );
}
