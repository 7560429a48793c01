# Asterisk 22 from Debian sid (Debian 12 ships none), configured from asterisk_conf/ at start.
FROM debian:sid-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends asterisk asterisk-modules \
      asterisk-core-sounds-en-gsm asterisk-moh-opsound-wav \
 && rm -rf /var/lib/apt/lists/*
# /etc/asterisk is a volume that compose's asterisk-config service fills first
# (`callcenter asterisk render /etc/asterisk`: asterisk_conf/ with production's settings).
CMD ["asterisk", "-f", "-U", "asterisk", "-G", "asterisk"]
