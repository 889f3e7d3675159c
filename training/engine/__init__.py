"""The job engine: one lifecycle for every leased job, and the executors that run a job's process.

::

    services ──► engine.lifecycle ──► Celery (by task name)
                      ▲                    │
                      │          engine.execution.job_execute
                      │                    │ acquire → prepare → executor.run
                      │                    ▼
                      │          engine.executors.<place>  (inline, local, …)
                      │                    │ starts the job's process
                      │                    ▼
                      └──── engine.reporting.JobReporter ◄── the job type's process function

A job type (``engine.jobs.JobType``) names its model (a ``training.models.Job``), the function
that does its work in the job's process, and its queue. The engine imports no service and no
Celery task: tasks are sent by name and process functions are resolved from dotted paths.
"""
