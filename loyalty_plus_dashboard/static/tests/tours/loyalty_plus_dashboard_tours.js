import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

// A merchant's manager opens the Loyalty+ dashboard (TestDashboardTour), then a report.
tours.add("loyalty_plus_dashboard_open", {
    steps: () => [
        {
            content: "the Loyalty+ dashboard in the Dashboards app",
            trigger: ".o_search_panel_category_value[data-name='Loyalty program']",
            run: "click",
        },
        {
            content: "it is the one shown",
            trigger: ".o_search_panel_category_value.active[data-name='Loyalty program']",
        },
        {
            content: "its figures and charts are drawn",
            trigger: ".o_spreadsheet_dashboard_action .o-figure canvas",
        },
        {
            content: "no error",
            trigger: ".o_spreadsheet_dashboard_action:not(:has(.o-error-tooltip, .o_notification.border-danger))",
        },
    ],
});

tours.add("loyalty_plus_report_pivot_graph", {
    steps: () => [
        {
            content: "the points liability opens in its pivot: the bakery's shops",
            trigger: ".o_pivot .o_pivot_header_cell_closed:contains('Test Bakery Esch')",
        },
        {
            content: "no other merchant",
            trigger: ".o_pivot:not(:has(th:contains('Test Café')))",
        },
        {
            content: "the total liability of the merchant",
            trigger: ".o_pivot tbody tr:first-child .o_pivot_cell_value:contains('3.44')",
        },
        {
            content: "switch to the graph",
            trigger: ".o_switch_view.o_graph",
            run: "click",
        },
        {
            content: "the graph is drawn",
            trigger: ".o_graph_renderer canvas",
        },
    ],
});
