/**
 * A realistic history of a shop's schema written the safe way: new tables freely, then changes to
 * existing tables with lock_timeout set, indexes built CONCURRENTLY in revisions without a
 * transaction, constraints NOT VALID then validated in a later revision, NOT NULL through a
 * validated CHECK, unique constraints attached to a concurrent index, enum values placed.
 * The linter must find nothing in it (the false-positive check), and Postgres must run it.
 */
const TIMEOUT = `op.execute("SET lock_timeout = '5s'");\nop.execute("SET statement_timeout = '10min'");`;

export interface SafeMigration {
  id: string;
  up: string;
  down: string;
  transactional?: boolean;
}

export const SAFE_CORPUS: SafeMigration[] = [
  {
    id: "customers",
    up: `op.createTable("customers", {
  id: t.bigint().identity().primaryKey(),
  email: t.text(),
  name: t.text().nullable(),
  created_at: t.timestamptz().defaultNow(),
}, (c) => [unique(c.email)]);`,
    down: `op.dropTable("customers");`,
  },
  {
    id: "order_status",
    up: `op.createEnum("order_status", ["pending", "paid", "shipped"]);`,
    down: `op.dropEnum("order_status");`,
  },
  {
    id: "orders",
    up: `op.createTable("orders", {
  id: t.bigint().identity().primaryKey(),
  customer_id: t.bigint().references("customers.id", { onDelete: "cascade" }),
  status: enumColumn("order_status").default("pending"),
  total: t.numeric(10, 2),
  placed_at: t.timestamptz().defaultNow(),
}, (c) => [index(c.customer_id)]);`,
    down: `op.dropTable("orders");`,
  },
  {
    id: "products",
    up: `op.createTable("products", {
  id: t.bigint().identity().primaryKey(),
  sku: t.text(),
  title: t.text(),
  attributes: t.jsonb().default({}),
  price: t.numeric(10, 2),
}, (c) => [unique(c.sku)]);
op.createIndex("ix_products_title", "products", ["title"]);`,
    down: `op.dropTable("products");`,
  },
  {
    id: "order_items",
    up: `op.createTable("order_items", {
  order_id: t.bigint().references("orders.id", { onDelete: "cascade" }),
  product_id: t.bigint().references("products.id"),
  quantity: t.integer().check("quantity > 0"),
  unit_price: t.numeric(10, 2),
}, (c) => [index(c.product_id)]);
op.addPrimaryKey("pk_order_items", "order_items", ["order_id", "product_id"]);`,
    down: `op.dropTable("order_items");`,
  },
  {
    id: "seed_products",
    up: `op.bulkInsert("products", [
  { sku: "TEA-1", title: "Green tea", price: "4.50" },
  { sku: "TEA-2", title: "Black tea", price: "3.90" },
]);`,
    down: `op.execute("DELETE FROM products WHERE sku IN ('TEA-1', 'TEA-2')");`,
  },
  {
    id: "customer_phone",
    up: `${TIMEOUT}\nop.addColumn("customers", "phone", t.text().nullable());`,
    down: `op.dropColumn("customers", "phone");`,
  },
  {
    id: "orders_status_index",
    transactional: false,
    up: `${TIMEOUT}\nop.createIndex("ix_orders_status", "orders", ["status"], { concurrently: true });`,
    down: `op.dropIndex("ix_orders_status", { concurrently: true });`,
  },
  {
    id: "customer_marketing_flag",
    up: `${TIMEOUT}\nop.addColumn("customers", "marketing_opt_in", t.boolean().default(false));`,
    down: `op.dropColumn("customers", "marketing_opt_in");`,
  },
  {
    id: "customer_updated_at",
    up: `${TIMEOUT}\nop.addColumn("customers", "updated_at", t.timestamptz().defaultNow());`,
    down: `op.dropColumn("customers", "updated_at");`,
  },
  {
    id: "customer_referrer",
    up: `${TIMEOUT}\nop.addColumn("customers", "referrer_id", t.bigint().nullable());\nop.addForeignKey("fk_customers_referrer_id_customers", "customers", "referrer_id", "customers", "id", { notValid: true });`,
    down: `op.dropConstraint("fk_customers_referrer_id_customers", "customers");\nop.dropColumn("customers", "referrer_id");`,
  },
  {
    id: "validate_customer_referrer",
    up: `op.validateConstraint("fk_customers_referrer_id_customers", "customers");`,
    down: `op.execute("SELECT 1");`,
  },
  {
    id: "customer_referrer_index",
    transactional: false,
    up: `${TIMEOUT}\nop.createIndex("ix_customers_referrer_id", "customers", ["referrer_id"], { concurrently: true });`,
    down: `op.dropIndex("ix_customers_referrer_id", { concurrently: true });`,
  },
  {
    id: "order_total_check",
    up: `${TIMEOUT}\nop.addCheck("ck_orders_total_positive", "orders", "total >= 0", { notValid: true });`,
    down: `op.dropConstraint("ck_orders_total_positive", "orders");`,
  },
  {
    id: "validate_order_total_check",
    up: `op.validateConstraint("ck_orders_total_positive", "orders");`,
    down: `op.execute("SELECT 1");`,
  },
  {
    id: "customer_name_check",
    up: `${TIMEOUT}\nop.addCheck("ck_customers_name_not_null", "customers", "name IS NOT NULL", { notValid: true });`,
    down: `op.dropConstraint("ck_customers_name_not_null", "customers");`,
  },
  {
    id: "backfill_customer_names",
    up: `op.run("name customers without one after their email", async (db) => {
  await db.updateTable("customers").set({ name: sql\`split_part(email, '@', 1)\` as never }).where("name", "is", null).execute();
});`,
    down: `op.execute("SELECT 1");`,
  },
  {
    id: "validate_customer_name_check",
    up: `op.validateConstraint("ck_customers_name_not_null", "customers");`,
    down: `op.execute("SELECT 1");`,
  },
  {
    id: "customer_name_not_null",
    up: `${TIMEOUT}\nop.alterColumn("customers", "name", { nullable: false });\nop.dropConstraint("ck_customers_name_not_null", "customers");`,
    down: `op.alterColumn("customers", "name", { nullable: true });`,
  },
  {
    id: "product_slug",
    up: `${TIMEOUT}\nop.addColumn("products", "slug", t.text().nullable());`,
    down: `op.dropColumn("products", "slug");`,
  },
  {
    id: "product_slug_unique_index",
    transactional: false,
    up: `${TIMEOUT}\nop.createIndex("uq_products_slug", "products", ["slug"], { unique: true, concurrently: true });`,
    down: `op.dropIndex("uq_products_slug", { concurrently: true });`,
  },
  {
    id: "product_slug_unique_constraint",
    up: `${TIMEOUT}\nop.execute("ALTER TABLE products ADD CONSTRAINT uq_products_slug UNIQUE USING INDEX uq_products_slug", { reverseSql: "ALTER TABLE products DROP CONSTRAINT uq_products_slug" });`,
    down: `op.execute("ALTER TABLE products DROP CONSTRAINT uq_products_slug");`,
  },
  {
    id: "order_status_refunded",
    up: `op.addEnumValue("order_status", "refunded", { after: "shipped" });`,
    down: `op.execute("SELECT 1");`,
  },
  {
    id: "order_status_cancelled",
    up: `op.addEnumValue("order_status", "cancelled", { before: "refunded" });`,
    down: `op.execute("SELECT 1");`,
  },
  {
    id: "order_total_precision",
    up: `${TIMEOUT}\nop.alterColumn("orders", "total", { type: t.numeric(12, 2) });`,
    down: `op.alterColumn("orders", "total", { type: t.numeric(10, 2) });`,
  },
  {
    id: "addresses",
    up: `op.createTable("addresses", {
  id: t.bigint().identity().primaryKey(),
  customer_id: t.bigint().references("customers.id", { onDelete: "cascade" }),
  line1: t.text(),
  city: t.text(),
  country: t.text().check("length(country) = 2"),
}, (c) => [index(c.customer_id)]);`,
    down: `op.dropTable("addresses");`,
  },
  {
    id: "staging_import",
    up: `op.createTable("import_rows", { id: t.bigint().identity().primaryKey(), raw: t.jsonb(), note: t.text().nullable() });
op.createIndex("ix_import_rows_raw", "import_rows", ["raw"], { using: "gin" });
op.alterColumn("import_rows", "note", { nullable: false, default: "" });
op.renameTable("import_rows", "product_imports");
op.dropColumn("product_imports", "note");`,
    down: `op.dropTable("product_imports");`,
  },
  {
    id: "product_attributes_index",
    transactional: false,
    up: `${TIMEOUT}\nop.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_products_attributes ON products USING gin (attributes)");`,
    down: `op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_products_attributes");`,
  },
  {
    id: "paid_orders_index",
    transactional: false,
    up: `${TIMEOUT}\nop.createIndex("ix_orders_placed_at_paid", "orders", ["placed_at"], { concurrently: true, where: "status = 'paid'" });`,
    down: `op.dropIndex("ix_orders_placed_at_paid", { concurrently: true });`,
  },
  {
    id: "order_summaries_view",
    up: `op.execute("CREATE VIEW order_summaries AS SELECT o.id, o.customer_id, o.total, count(i.*) AS items FROM orders o LEFT JOIN order_items i ON i.order_id = o.id GROUP BY o.id", { reverseSql: "DROP VIEW order_summaries" });`,
    down: `op.execute("DROP VIEW order_summaries");`,
  },
  {
    id: "touch_function",
    up: `op.execute(\`CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$\`);`,
    down: `op.execute("DROP FUNCTION touch_updated_at()");`,
  },
  {
    id: "audit_log",
    up: `op.createTable("audit_log", {
  id: t.bigint().identity().primaryKey(),
  actor: t.text(),
  action: t.text(),
  details: t.jsonb().default({}),
  at: t.timestamptz().defaultNow(),
  updated_at: t.timestamptz().defaultNow(),
});
op.execute("CREATE TRIGGER audit_log_touch BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION touch_updated_at()");`,
    down: `op.dropTable("audit_log");`,
  },
  {
    id: "reference_countries",
    up: `op.createTable("countries", { code: t.text().primaryKey(), name: t.text() });
op.execute("INSERT INTO countries (code, name) VALUES ('DE', 'Germany'), ('FR', 'France'), ('JP', 'Japan')");`,
    down: `op.dropTable("countries");`,
  },
  {
    id: "address_country_fk",
    up: `${TIMEOUT}\nop.execute("ALTER TABLE addresses ADD CONSTRAINT fk_addresses_country FOREIGN KEY (country) REFERENCES countries (code) NOT VALID");`,
    down: `op.execute("ALTER TABLE addresses DROP CONSTRAINT fk_addresses_country");`,
  },
  {
    id: "validate_address_country_fk",
    up: `op.execute("ALTER TABLE addresses VALIDATE CONSTRAINT fk_addresses_country");`,
    down: `op.execute("SELECT 1");`,
  },
  {
    id: "product_price_check_raw",
    up: `${TIMEOUT}\nop.execute("ALTER TABLE products ADD CONSTRAINT ck_products_price CHECK (price >= 0) NOT VALID");`,
    down: `op.execute("ALTER TABLE products DROP CONSTRAINT ck_products_price");`,
  },
  {
    id: "validate_product_price_check_raw",
    up: `op.execute("ALTER TABLE products VALIDATE CONSTRAINT ck_products_price");`,
    down: `op.execute("SELECT 1");`,
  },
  {
    id: "customer_email_comment",
    up: `${TIMEOUT}\nop.alterColumn("customers", "email", { comment: "login and receipts" });`,
    down: `op.alterColumn("customers", "email", { comment: null });`,
  },
  {
    id: "order_status_default",
    up: `${TIMEOUT}\nop.alterColumn("orders", "status", { default: "paid" });`,
    down: `op.alterColumn("orders", "status", { default: "pending" });`,
  },
  {
    id: "drop_products_title_index",
    transactional: false,
    up: `${TIMEOUT}\nop.dropIndex("ix_products_title", { concurrently: true });`,
    down: `op.createIndex("ix_products_title", "products", ["title"], { concurrently: true });`,
  },
  {
    id: "trigram_extension",
    up: `op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", { reverseSql: "DROP EXTENSION IF EXISTS pg_trgm" });`,
    down: `op.execute("DROP EXTENSION IF EXISTS pg_trgm");`,
  },
  {
    id: "product_title_search_index",
    transactional: false,
    up: `${TIMEOUT}\nop.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_products_title_trgm ON products USING gin (title gin_trgm_ops)");`,
    down: `op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_products_title_trgm");`,
  },
  {
    id: "customer_tags",
    up: `op.createTable("customer_tags", {
  customer_id: t.bigint().references("customers.id", { onDelete: "cascade" }),
  tag: t.text(),
}, (c) => [unique(c.customer_id, c.tag)]);`,
    down: `op.dropTable("customer_tags");`,
  },
  {
    id: "backfill_order_status",
    up: `op.run("mark old pending orders as cancelled", async (db) => {
  await db.updateTable("orders").set({ status: "cancelled" }).where("status", "=", "pending").where("placed_at", "<", new Date("2020-01-01")).execute();
});`,
    down: `op.execute("SELECT 1");`,
  },
  {
    id: "shipments",
    up: `op.createTable("shipments", {
  id: t.bigint().identity().primaryKey(),
  order_id: t.bigint().references("orders.id"),
  carrier: t.text(),
  tracking: t.text().nullable(),
  shipped_at: t.timestamptz().nullable(),
}, (c) => [index(c.order_id)]);`,
    down: `op.dropTable("shipments");`,
  },
  {
    id: "product_reindex",
    transactional: false,
    up: `${TIMEOUT}\nop.execute("REINDEX INDEX CONCURRENTLY uq_products_slug");`,
    down: `op.execute("SELECT 1");`,
  },
];
