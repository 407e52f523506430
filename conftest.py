# Fixtures come from the billing_testing pytest plugin (libs/testing), registered by its entry point.
