-- Every index on the sign-in log is paid for by every ingested sign-in (measured: each one adds
-- about a sixth to the cost of writing a row; docs/PERFORMANCE.md). Two did not earn it:
-- * sign_ins_by_id: a sign-in is only ever looked up together with its owner (details, review),
--   which sign_ins_by_user_newest serves with the id checked inside the index.
-- * sign_ins_located_successes: the previous located success of a user is found by walking
--   sign_ins_by_user_newest back from the new sign-in; where locations are known at all, the
--   latest success nearly always has one.
DROP INDEX IF EXISTS sign_ins_by_id;
DROP INDEX IF EXISTS sign_ins_located_successes;
