def migrate(cr, version):
    # an order now earns one ledger row per rule and campaign: the index allowing one points row
    # per order gives way to one per order and effect (created by the module's update)
    cr.execute("DROP INDEX IF EXISTS loyalty_plus_transaction__earn_once_per_order")
