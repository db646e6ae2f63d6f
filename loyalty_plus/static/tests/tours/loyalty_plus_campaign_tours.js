import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// A merchant's manager schedules a double-points day from the menu (TestEarningViewsTour).
registry.category("web_tour.tours").add("loyalty_plus_campaign_create", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("loyalty_plus.loyalty_plus_menu_root", "open Loyalty+"),
        {
            content: "the configuration menu",
            trigger: "button[data-menu-xmlid='loyalty_plus.loyalty_plus_menu_configuration']",
            run: "click",
        },
        {
            content: "campaigns",
            trigger: "a[data-menu-xmlid='loyalty_plus.loyalty_plus_campaign_menu']",
            run: "click",
        },
        {
            content: "the list is grouped by status",
            trigger: ".o_list_view:has(.o_group_header:contains('Ended')) .o_group_header:contains('Running')",
        },
        {
            content: "a new campaign",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "its name",
            trigger: ".o_field_widget[name='name'] input",
            run: "edit Double points",
        },
        {
            content: "the merchant's program",
            trigger: ".o_field_widget[name='program_id'] input",
            run: "edit Bakery",
        },
        {
            trigger: ".o_field_widget[name='program_id'] .o-autocomplete--dropdown-item:contains('Bakery Rewards')",
            run: "click",
        },
        {
            content: "a multiplier by default: ×2",
            trigger: ".o_field_widget[name='multiplier'] input",
            run: "edit 2",
        },
        {
            content: "on Tuesdays",
            trigger: ".o_field_widget[name='tuesday'] input",
            run: "click",
        },
        {
            content: "no bonus to fill in for a multiplier",
            trigger: ".o_form_view:not(:has(.o_field_widget[name='bonus_points']))",
        },
        ...stepUtils.saveForm(),
        {
            content: "it runs now",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Running')",
        },
    ],
});
