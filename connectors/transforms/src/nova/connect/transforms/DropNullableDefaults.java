package nova.connect.transforms;

import java.util.Map;

import org.apache.kafka.common.cache.Cache;
import org.apache.kafka.common.cache.LRUCache;
import org.apache.kafka.common.cache.SynchronizedCache;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.components.Versioned;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.transforms.Transformation;

/**
 * Keeps an explicit SQL NULL a null on the wire.
 *
 * <p>Debezium copies each column's DEFAULT into the row schema, and Kafka Connect's
 * {@code Struct.get()} answers a null field with that default (KAFKA-8713). The Avro converter
 * reads rows that way, so {@code message_type = NULL} in a column declared {@code DEFAULT 'text'}
 * would be published as {@code 'text'}. This transform removes the default from every optional
 * column of the {@code before} and {@code after} rows: a reader resolves missing fields with its
 * own schema's defaults, so the writer's were never needed.
 *
 * <p>Only the value changes. The key keeps its schema because its serialized bytes (schema id
 * included) choose the partition.
 */
public final class DropNullableDefaults<R extends ConnectRecord<R>> implements Transformation<R>, Versioned {
  private static final String BEFORE = "before";
  private static final String AFTER = "after";

  /** Envelope and row schemas, each mapped to its copy without nullable defaults. */
  private final Cache<Schema, Schema> rewritten = new SynchronizedCache<>(new LRUCache<>(256));

  @Override
  public R apply(R record) {
    Schema schema = record.valueSchema();
    if (!(record.value() instanceof Struct envelope) || !isChangeEnvelope(schema)) return record;
    Schema target = envelopeWithoutNullableDefaults(schema);
    if (target == schema) return record;
    Struct value = new Struct(target);
    for (Field field : target.fields()) {
      Object original = envelope.getWithoutDefault(field.name());
      value.put(field, isRow(field) && original != null ? copyRow((Struct) original, field.schema()) : original);
    }
    return record.newRecord(record.topic(), record.kafkaPartition(), record.keySchema(), record.key(), target, value, record.timestamp());
  }

  private static boolean isChangeEnvelope(Schema schema) {
    return schema != null && schema.type() == Schema.Type.STRUCT
        && schema.field(AFTER) != null && schema.field(AFTER).schema().type() == Schema.Type.STRUCT;
  }

  private static boolean isRow(Field field) {
    return field.name().equals(BEFORE) || field.name().equals(AFTER);
  }

  private Schema envelopeWithoutNullableDefaults(Schema envelope) {
    Schema known = rewritten.get(envelope);
    if (known != null) return known;
    boolean changed = false;
    SchemaBuilder builder = structLike(envelope);
    for (Field field : envelope.fields()) {
      Schema fieldSchema = isRow(field) ? rowWithoutNullableDefaults(field.schema()) : field.schema();
      changed |= fieldSchema != field.schema();
      builder.field(field.name(), fieldSchema);
    }
    Schema result = changed ? builder.build() : envelope;
    rewritten.put(envelope, result);
    return result;
  }

  /** The same row schema instance for before and after, so the converter names one record. */
  private Schema rowWithoutNullableDefaults(Schema row) {
    Schema known = rewritten.get(row);
    if (known != null) return known;
    boolean changed = false;
    SchemaBuilder builder = structLike(row);
    for (Field column : row.fields()) {
      Schema columnSchema = column.schema();
      if (columnSchema.isOptional() && columnSchema.defaultValue() != null) {
        columnSchema = withoutDefault(columnSchema);
        changed = true;
      }
      builder.field(column.name(), columnSchema);
    }
    Schema result = changed ? builder.build() : row;
    rewritten.put(row, result);
    return result;
  }

  private static Struct copyRow(Struct row, Schema target) {
    if (row.schema() == target) return row;
    Struct copy = new Struct(target);
    for (Field column : target.fields()) copy.put(column, row.getWithoutDefault(column.name()));
    return copy;
  }

  /** A struct builder carrying the schema's name, version, doc, parameters and optionality. */
  private static SchemaBuilder structLike(Schema schema) {
    return describedAs(schema, SchemaBuilder.struct());
  }

  private static Schema withoutDefault(Schema column) {
    SchemaBuilder builder = switch (column.type()) {
      case ARRAY -> SchemaBuilder.array(column.valueSchema());
      case MAP -> SchemaBuilder.map(column.keySchema(), column.valueSchema());
      case STRUCT -> {
        SchemaBuilder struct = SchemaBuilder.struct();
        for (Field field : column.fields()) struct.field(field.name(), field.schema());
        yield struct;
      }
      default -> SchemaBuilder.type(column.type());
    };
    return describedAs(column, builder).build();
  }

  private static SchemaBuilder describedAs(Schema schema, SchemaBuilder builder) {
    builder.name(schema.name()).version(schema.version()).doc(schema.doc());
    Map<String, String> parameters = schema.parameters();
    if (parameters != null && !parameters.isEmpty()) builder.parameters(parameters);
    if (schema.isOptional()) builder.optional();
    return builder;
  }

  @Override
  public ConfigDef config() {
    return new ConfigDef();
  }

  @Override
  public void configure(Map<String, ?> configs) {}

  @Override
  public void close() {}

  @Override
  public String version() {
    return "1";
  }
}
