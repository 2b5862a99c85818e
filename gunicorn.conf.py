"""gunicorn settings every start command shares (gunicorn reads this file from the working directory)."""

# Access log lines without query strings (signed tokens) or share-link secrets.
logger_class = "app.ops.access_log.AccessLogger"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
