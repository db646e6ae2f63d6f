import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("loyalty_plus_website_home", {
    steps: () => [
        {
            content: "The website header is rendered",
            trigger: "header#top",
        },
        {
            content: "The footer is rendered",
            trigger: "footer#bottom",
        },
    ],
});
