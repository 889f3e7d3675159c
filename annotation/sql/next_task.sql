-- next-task in one database call (issue #7): flywheel_next_task does in PostgreSQL what
-- annotation.services.assignments did in six round trips (read the project, lock the annotator,
-- resume a live lease, serve gold, choose and lock a set, lease it, read the task).
--
-- Created by migration 0005 (annotation/migrations/0005_next_task_function.py), which runs this
-- file. States are the values of annotation.enums.CandidateSetState and AssignmentState.
--
-- Under READ COMMITTED every statement of a VOLATILE PL/pgSQL function takes its own snapshot,
-- so the recount in flywheel_lease sees every lease committed before the set's lock was granted,
-- as separate statements did before. PL/pgSQL plans each statement once per connection.

-- Lease a set (the caller holds its row lock, or it is a gold set): insert the assignment with
-- the set's candidates in a random display order, or renew the annotator's own earlier lease of
-- it, which ran out, keeping its order. With an overlap, only when the set's occupied slots
-- (submitted, or leased and not expired), re-counted here after the lock was granted, leave one
-- free (a 'returned' assignment, sent back by a reviewer, keeps its slot for its annotator; a
-- 'rejected' one frees it for someone else and is never leased to its annotator again).
-- NULLs when it is full.
CREATE OR REPLACE FUNCTION flywheel_lease(
    p_set bigint, p_annotator integer, p_now timestamptz, p_expires timestamptz,
    p_overlap integer, OUT o_assignment bigint, OUT o_order jsonb
)
LANGUAGE plpgsql VOLATILE
AS $lease$
BEGIN
    INSERT INTO annotation_assignment AS a
        (candidate_set_id, annotator_id, display_order, state, leased_at, lease_expires_at)
    SELECT p_set, p_annotator,
           (SELECT jsonb_agg(m.candidate_id ORDER BY random())
            FROM annotation_candidatesetmember m WHERE m.candidate_set_id = p_set),
           'leased', p_now, p_expires
    WHERE p_overlap IS NULL OR p_overlap > (
        SELECT count(*) FILTER (
            WHERE o.state IN ('submitted', 'returned')
               OR (o.state = 'leased' AND o.lease_expires_at > p_now))
        FROM annotation_assignment o WHERE o.candidate_set_id = p_set)
    ON CONFLICT (candidate_set_id, annotator_id) DO UPDATE
        SET state = EXCLUDED.state, leased_at = EXCLUDED.leased_at,
            lease_expires_at = EXCLUDED.lease_expires_at
        WHERE a.state NOT IN ('submitted', 'skipped', 'rejected')
    RETURNING a.id, a.display_order INTO o_assignment, o_order;
END
$lease$;

-- The annotator's next task in project p_project: status 'leased' with the lease and what the
-- annotator sees (with the reviewer's comment when the set was sent back to them); 'none' when nothing is left for them; 'no_project'; or 'wait' with the sets
-- passed over so far: call again with them, in a new transaction.
--
-- 1. Lock the annotator's row (FOR NO KEY UPDATE: two tabs never lease two sets at once) and
--    resume their live lease in the project, if any.
-- 1b. A set a reviewer sent back to the annotator (assignment 'returned', issue 18) comes
--    back to them first, in the display order they had: its slot stayed theirs, so the set's
--    lock is taken (lock order) but nothing is recounted.
-- 2. The window: the p_window oldest open sets the annotator may lease (not gold, not passed
--    over, not submitted or skipped by them, with a free slot), the fullest first, then the
--    oldest. Read through set_project_state_idx in id order, so PostgreSQL stops after the
--    window, and each set's assignments are read once, for its slot count and for whether the
--    annotator already did it, so the cost does not grow with the project's history.
-- 3. Gold, when p_gold_draw < the project's gold rate, on the first call, and while the
--    annotator still has regular sets to do: an unseen gold set. Gold sets have no overlap
--    limit (everyone sees each once), so no set lock: the annotator's lock serialises their
--    calls, and a unique constraint forbids a second assignment.
-- 4. Lock the window's sets in turn, skipping those someone else holds (SKIP LOCKED: concurrent
--    calls spread over the window instead of queueing on one row), and lease the first whose
--    recount leaves a slot; one that filled up (or closed) since the window was read is passed
--    over, its lock kept.
-- 5. Every set left is locked by someone else at this instant (their submit or lease is in
--    flight), so "nothing left" would be wrong: wait for the best one's lock and recount. Only
--    while holding no other set's lock, so waits never form a cycle: a call that locked a set it
--    passed over answers 'wait' instead.
CREATE OR REPLACE FUNCTION flywheel_next_task(
    p_project bigint, p_annotator integer, p_now timestamptz, p_gold_draw double precision,
    p_passed_over bigint[], p_window integer, p_max_passed_over integer
) RETURNS TABLE (
    status text, passed_over bigint[], assignment_id bigint, candidate_set_id bigint,
    display_order jsonb, lease_expires_at timestamptz, messages jsonb,
    show_ai_suggestion boolean, ai_suggestion jsonb, texts jsonb, review_comment text
)
LANGUAGE plpgsql VOLATILE
AS $next$
#variable_conflict use_column
DECLARE
    v_overlap integer;
    v_gold_rate double precision;
    v_expires timestamptz;
    v_live_expires timestamptz;
    v_window bigint[];
    v_passed bigint[] := p_passed_over;
    v_skipped bigint[] := '{}';
    v_locked_a_set boolean := false;
    v_set bigint;
    v_state text;
    v_assignment bigint;
    v_order jsonb;
    v_status text;
BEGIN
    SELECT p.annotations_per_set, p.gold_rate, p_now + make_interval(secs => p.lease_seconds)
    INTO v_overlap, v_gold_rate, v_expires
    FROM annotation_project p WHERE p.id = p_project;
    IF NOT FOUND THEN
        v_status := 'no_project';
    ELSE
        <<lease>>
        BEGIN
            PERFORM 1 FROM auth_user WHERE id = p_annotator FOR NO KEY UPDATE;

            SELECT a.id, a.candidate_set_id, a.display_order, a.lease_expires_at
            INTO v_assignment, v_set, v_order, v_live_expires
            FROM annotation_assignment a
            JOIN annotation_candidateset s ON s.id = a.candidate_set_id
            WHERE a.annotator_id = p_annotator AND s.project_id = p_project
              AND a.state = 'leased' AND a.lease_expires_at > p_now
            ORDER BY a.id LIMIT 1;
            IF FOUND THEN
                v_expires := v_live_expires;
                EXIT lease;
            END IF;

            SELECT a.id, a.candidate_set_id INTO v_assignment, v_set
            FROM annotation_assignment a
            JOIN annotation_candidateset s ON s.id = a.candidate_set_id
            WHERE a.annotator_id = p_annotator AND s.project_id = p_project
              AND a.state = 'returned' AND s.state <> 'retired'
            ORDER BY a.id LIMIT 1;
            IF FOUND THEN
                PERFORM 1 FROM annotation_candidateset s WHERE s.id = v_set FOR UPDATE;
                UPDATE annotation_assignment a
                SET state = 'leased', leased_at = p_now, lease_expires_at = v_expires
                WHERE a.id = v_assignment AND a.state = 'returned'
                RETURNING a.display_order INTO v_order;
                EXIT lease WHEN FOUND;
                v_assignment := NULL;
            END IF;

            SELECT coalesce(array_agg(win.id ORDER BY win.n DESC, win.id), '{}') INTO v_window
            FROM (
                SELECT w.id, slots.n FROM annotation_candidateset w
                CROSS JOIN LATERAL (
                    SELECT count(*) FILTER (
                               WHERE a.state IN ('submitted', 'returned')
                                  OR (a.state = 'leased' AND a.lease_expires_at > p_now)) AS n,
                           count(*) FILTER (
                               WHERE a.annotator_id = p_annotator
                                 AND a.state IN ('submitted', 'skipped', 'rejected')) AS mine
                    FROM annotation_assignment a WHERE a.candidate_set_id = w.id
                ) slots
                WHERE w.project_id = p_project AND w.state = 'open' AND w.gold_tiers IS NULL
                  AND NOT (w.id = ANY(p_passed_over))
                  AND slots.n < v_overlap AND slots.mine = 0
                ORDER BY w.id LIMIT p_window
            ) win;
            IF cardinality(v_window) = 0 THEN
                v_status := 'none';
                EXIT lease;
            END IF;

            IF cardinality(p_passed_over) = 0 AND p_gold_draw < v_gold_rate THEN
                SELECT s.id INTO v_set FROM annotation_candidateset s
                WHERE s.project_id = p_project AND s.gold_tiers IS NOT NULL
                  AND s.state <> 'retired'
                  AND NOT EXISTS (
                      SELECT 1 FROM annotation_assignment seen
                      WHERE seen.candidate_set_id = s.id AND seen.annotator_id = p_annotator
                        AND seen.state IN ('submitted', 'skipped', 'rejected'))
                ORDER BY random() LIMIT 1;
                IF FOUND THEN
                    SELECT * INTO v_assignment, v_order
                    FROM flywheel_lease(v_set, p_annotator, p_now, v_expires, NULL);
                    EXIT lease WHEN v_assignment IS NOT NULL;
                END IF;
            END IF;

            FOREACH v_set IN ARRAY v_window LOOP
                SELECT s.state INTO v_state FROM annotation_candidateset s
                WHERE s.id = v_set FOR UPDATE SKIP LOCKED;
                IF NOT FOUND THEN
                    v_skipped := v_skipped || v_set;  -- someone else holds it
                    CONTINUE;
                END IF;
                IF v_state = 'open' THEN
                    SELECT * INTO v_assignment, v_order
                    FROM flywheel_lease(v_set, p_annotator, p_now, v_expires, v_overlap);
                    EXIT lease WHEN v_assignment IS NOT NULL;
                END IF;
                v_passed := v_passed || v_set;  -- full on recount: keep its lock, go on
                v_locked_a_set := true;
                IF cardinality(v_passed) >= p_max_passed_over THEN
                    v_status := 'none';
                    EXIT lease;
                END IF;
            END LOOP;
            IF v_locked_a_set THEN
                v_status := 'wait';
                EXIT lease;
            END IF;

            v_set := v_skipped[1];
            -- Waits for the lock; reads the row version it waited for.
            SELECT s.state INTO v_state FROM annotation_candidateset s
            WHERE s.id = v_set FOR UPDATE;
            IF v_state = 'open' THEN
                SELECT * INTO v_assignment, v_order
                FROM flywheel_lease(v_set, p_annotator, p_now, v_expires, v_overlap);
                EXIT lease WHEN v_assignment IS NOT NULL;
            END IF;
            v_passed := v_passed || v_set;
            v_status := CASE WHEN cardinality(v_passed) >= p_max_passed_over
                             THEN 'none' ELSE 'wait' END;
        END lease;
    END IF;

    IF v_status IS NOT NULL THEN
        RETURN QUERY SELECT v_status, v_passed, NULL::bigint, NULL::bigint, NULL::jsonb,
            NULL::timestamptz, NULL::jsonb, NULL::boolean, NULL::jsonb, NULL::jsonb, NULL::text;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT 'leased'::text, v_passed, v_assignment, s.id, v_order, v_expires, pr.messages,
           p.show_ai_suggestion, s.ai_suggestion,
           (SELECT jsonb_object_agg(c.id, c.text) FROM annotation_candidatesetmember m
            JOIN annotation_candidate c ON c.id = m.candidate_id
            WHERE m.candidate_set_id = s.id),
           -- The reviewer's comment when this set was sent back to the annotator.
           (SELECT r.review_comment FROM annotation_ranking r
            WHERE r.assignment_id = v_assignment AND r.review_state = 'sent_back'
            ORDER BY r.id DESC LIMIT 1)
    FROM annotation_candidateset s
    JOIN annotation_prompt pr ON pr.id = s.prompt_id
    JOIN annotation_project p ON p.id = s.project_id
    WHERE s.id = v_set;
END
$next$;
