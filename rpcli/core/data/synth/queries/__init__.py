"""Query generators, one module per kind of task. Each generator takes a Draw and returns a dict:

  q (query), gt (ground truth), choices (str | None), tid (task_id), user (formatted user turn or None),
  sub (sub-topic 0..3), cx (complexity in [0, 1]), ans / wrong (short responses when right / wrong).
"""
