# Asterisk 22 from Debian sid (Debian 12 ships none), configured from asterisk_conf/ at start.
FROM debian:sid-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends asterisk asterisk-modules \
      asterisk-core-sounds-en-gsm asterisk-moh-opsound-wav \
 && rm -rf /var/lib/apt/lists/*
# The controller's `callcenter` renders asterisk_conf/ into /etc/asterisk (shared volume).
CMD ["asterisk", "-f", "-U", "asterisk", "-G", "asterisk"]
