# A real SMTP server for Docent's tests (Python's smtpd): prints its port, then each message
# it receives, as JSON lines on stdout.
import asyncore
import json
import smtpd
import warnings

warnings.simplefilter("ignore")


class Sink(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        if isinstance(data, bytes):
            data = data.decode("utf-8", "replace")
        print(json.dumps({"from": mailfrom, "to": rcpttos, "data": data}), flush=True)


server = Sink(("127.0.0.1", 0), None, decode_data=False)
print(json.dumps({"port": server.socket.getsockname()[1]}), flush=True)
asyncore.loop()
