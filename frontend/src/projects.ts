/**
 * The project list from `GET /api/v1/projects/` (limit/offset paginated), and the facts the
 * page shows for each project. Pure functions; components/projects/ProjectsPage.tsx renders them.
 */

import { errorMessage } from "./apiErrors";
import { type Schemas, wire } from "./apiTypes";

export interface RatingDimension {
  name: string;
  min: number;
  max: number;
}

/** What the annotator records per response besides the ranking. */
export interface Criteria {
  flags: string[];
  ratings: RatingDimension[];
}

export interface ProjectSummary {
  id: number;
  name: string;
  k: number;
  setCount: number;
  completeSetCount: number;
  /** Sets the caller ranked; the API sends it to annotators only. */
  myRankingCount: number | null;
  /** The caller's role in this project (admins: admin everywhere). */
  myRole: "admin" | "reviewer" | "annotator";
  /** Markdown, written by an admin. */
  guidelines: string;
  criteria: Criteria;
  allowTies: boolean;
  /** Annotators see the reward model's suggested ranking (the loop's AI feedback). */
  showAiSuggestion: boolean;
  /** The model version the loop improves; null before one is registered. */
  currentPolicy: number | null;
}

export interface ProjectPage {
  /** Projects in all pages; `projects` holds the first page only. */
  count: number;
  projects: ProjectSummary[];
}

export type ProjectListState =
  | { kind: "loaded"; page: ProjectPage }
  | { kind: "signed-out" }
  | { kind: "failed"; message: string };

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

/** `{"flags": [str], "ratings": [{"name", "min", "max"}]}`; anything unreadable is left out. */
export function parseCriteria(value: unknown): Criteria {
  const criteria: Criteria = { flags: [], ratings: [] };
  if (typeof value !== "object" || value === null) return criteria;
  const { flags, ratings } = value as { flags?: unknown; ratings?: unknown };
  if (Array.isArray(flags)) criteria.flags = flags.filter((f): f is string => typeof f === "string");
  if (Array.isArray(ratings)) {
    for (const r of ratings as unknown[]) {
      if (typeof r !== "object" || r === null) continue;
      const { name, min, max } = r as Record<string, unknown>;
      if (typeof name !== "string" || !Number.isInteger(min) || !Number.isInteger(max)) continue;
      if ((min as number) > (max as number)) continue;
      criteria.ratings.push({ name, min: min as number, max: max as number });
    }
  }
  return criteria;
}

export function parseProject(row: unknown): ProjectSummary | null {
  const r = wire<Schemas["ProjectOutput"]>(row);
  if (!r) return null;
  if (!isCount(r.id) || typeof r.name !== "string" || !isCount(r.k)) return null;
  if (!isCount(r.set_count) || !isCount(r.complete_set_count)) return null;
  const mine = r.my_ranking_count;
  if (mine !== undefined && mine !== null && !isCount(mine)) return null;
  return {
    id: r.id,
    name: r.name,
    k: r.k,
    setCount: r.set_count,
    completeSetCount: r.complete_set_count,
    myRankingCount: isCount(mine) ? mine : null,
    myRole: r.my_role === "annotator" || r.my_role === "reviewer" ? r.my_role : "admin",
    guidelines: typeof r.guidelines === "string" ? r.guidelines : "",
    criteria: parseCriteria(r.criteria),
    allowTies: r.allow_ties !== false,
    showAiSuggestion: r.show_ai_suggestion === true,
    currentPolicy: isCount(r.current_policy) ? r.current_policy : null,
  };
}

/** Validate a page `{"count", "results": [...]}`; null if any part is not the documented shape. */
export function parseProjectPage(body: unknown): ProjectPage | null {
  const page = wire<Schemas["PaginatedProjectOutputList"]>(body);
  if (!page) return null;
  const { count, results } = page;
  if (!isCount(count) || !Array.isArray(results)) return null;
  const projects = results.map(parseProject);
  if (projects.some((p) => p === null)) return null;
  return { count, projects: projects as ProjectSummary[] };
}

export function projectListStateFrom(status: number, body: unknown): ProjectListState {
  // 401: the session ended (signed out in another tab, expired). 403 is a role problem, shown.
  if (status === 401) return { kind: "signed-out" };
  if (status !== 200) return { kind: "failed", message: errorMessage(status, body) };
  const page = parseProjectPage(body);
  return page
    ? { kind: "loaded", page }
    : { kind: "failed", message: "The server answered with something unexpected." };
}

export function progressText(project: ProjectSummary): string {
  return `${project.completeSetCount} / ${project.setCount} sets complete`;
}

/** What the line after a project's name says: K, progress, and the annotator's own count. */
export function projectFacts(project: ProjectSummary): string[] {
  const facts = [`K = ${project.k}`, progressText(project)];
  if (project.myRankingCount !== null) facts.push(`you ranked ${project.myRankingCount}`);
  return facts;
}

/** Null when the page shows every project; otherwise says how many it leaves out. */
export function moreProjectsText(page: ProjectPage): string | null {
  const hidden = page.count - page.projects.length;
  return hidden > 0 ? `Showing the first ${page.projects.length} of ${page.count} projects.` : null;
}
