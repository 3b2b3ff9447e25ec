#!/usr/bin/env bash
# The compose broker (apache/kafka image), secured as devstack/kafka.py runs the local one: clients
# authenticate with SASL/SCRAM-SHA-512 over SASL_PLAINTEXT, the controller listener with SASL PLAIN
# (the admin only, from this configuration: SCRAM credentials live in the metadata the controller
# serves), KRaft's StandardAuthorizer with allow.everyone.if.no.acl.found=false, `admin` the super
# user. The SCRAM users (admin and one per service, passwords <NAME>_KAFKA_PASSWORD) are written
# into the storage when it is formatted, i.e. on the first start of a fresh volume: a changed
# password needs `docker compose down -v` (or kafka-configs.sh --alter as admin).
# The ACLs and topics are created afterwards by the one-shot kafka-provision service.
#
# Writes its own server.properties (not the image's KAFKA_* env rendering, which knows nothing of
# --add-scram), formats the storage once, then execs the broker. KAFKA_HOME, KAFKA_CONFIG_DIR and
# KAFKA_HOST may be overridden to run it outside the image (the deploy tests do, with stubs).
set -euo pipefail

KAFKA_HOME=${KAFKA_HOME:-/opt/kafka}
CONFIG_DIR=${KAFKA_CONFIG_DIR:-/tmp/kafka-config}
HOST=${KAFKA_HOST:-kafka}          # the name clients (and the quorum) reach this node by
DATA_DIR=${KAFKA_DATA_DIR:-/var/lib/kafka/data}
: "${CLUSTER_ID:?CLUSTER_ID is required}"
: "${KAFKA_SCRAM_USERS:?KAFKA_SCRAM_USERS (the service principals) is required}"
admin=admin
admin_pw=${ADMIN_KAFKA_PASSWORD:?ADMIN_KAFKA_PASSWORD is required}
SCRAM=SCRAM-SHA-512

mkdir -p "$CONFIG_DIR"
umask 077  # the files hold the admin's password
cat > "$CONFIG_DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${HOST}:9093
listeners=SASL_PLAINTEXT://:9092,CONTROLLER://:9093
advertised.listeners=SASL_PLAINTEXT://${HOST}:9092
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_PLAINTEXT
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
sasl.enabled.mechanisms=${SCRAM}
sasl.mechanism.inter.broker.protocol=${SCRAM}
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${admin}" password="${admin_pw}";
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${admin}" password="${admin_pw}" user_${admin}="${admin_pw}";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:${admin}
log.dirs=${DATA_DIR}
# Topics are created up front by kafka-provision (and by their owners, per the ACLs); they never
# expire: the read model is rebuilt by replay.
auto.create.topics.enable=true
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
log.retention.ms=-1
log.retention.bytes=-1
# Single node: one replica for the internal topics.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS

# For the healthcheck and kafka-*.sh commands run in the container as admin.
cat > "$CONFIG_DIR/admin.properties" <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=${SCRAM}
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${admin}" password="${admin_pw}";
PROPS

scram=(--add-scram "${SCRAM}=[name=${admin},password=${admin_pw}]")
for user in $KAFKA_SCRAM_USERS; do
  var="${user^^}_KAFKA_PASSWORD"
  pw=${!var:-}
  if [[ -z "$pw" ]]; then
    echo "$var is required (the SCRAM password of $user)" >&2
    exit 1
  fi
  scram+=(--add-scram "${SCRAM}=[name=${user},password=${pw}]")
done

# Only a fresh volume is formatted (and gets the SCRAM users); --cluster-id=<id>: an id may begin with "-".
if [[ ! -e "$DATA_DIR/meta.properties" ]]; then
  "$KAFKA_HOME/bin/kafka-storage.sh" format --cluster-id="$CLUSTER_ID" -c "$CONFIG_DIR/server.properties" \
    --ignore-formatted "${scram[@]}"
fi
exec "$KAFKA_HOME/bin/kafka-server-start.sh" "$CONFIG_DIR/server.properties"
