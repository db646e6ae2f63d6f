from pathlib import Path

from odoo.tests import tagged

from .common import LoyaltyPlusPosCommon

AXE_PATH = Path(__file__).resolve().parents[2] / ".cache" / "node" / "node_modules" / "axe-core" / "axe.min.js"


@tagged("post_install", "-at_install")
class TestPosAccessibility(LoyaltyPlusPosCommon):
    """axe-core (from npm, installed by scripts/setup.sh) on our dialogs and the card panel."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.main_pos_config.with_user(cls.pos_user).open_ui()
        # the card panel's tier badge: Rich reached the tier (tiers move only with earnings, set here directly)
        cls.env.cr.execute("UPDATE loyalty_plus_card SET tier_id = %s WHERE id = %s", (cls.tier.id, cls.rich_card.id))
        cls.rich_card.invalidate_recordset(["tier_id"])

    def setUp(self):
        super().setUp()
        if not AXE_PATH.is_file():
            self.fail(f"axe-core is missing at {AXE_PATH}: run scripts/setup.sh")
        attachment = self.env["ir.attachment"].create(
            {"name": "axe.min.js", "raw": AXE_PATH.read_bytes(), "mimetype": "text/javascript", "public": True}
        )
        self.env["ir.model.data"].create(
            {
                "module": "loyalty_plus_pos",
                "name": "axe_core_test",
                "model": "ir.attachment",
                "res_id": attachment.id,
                "noupdate": True,
            }
        )

    def test_dialogs_and_card_panel(self):
        self.start_pos_tour("loyalty_plus_pos_accessibility")
