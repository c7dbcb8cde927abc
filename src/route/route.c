/* route.c - placeholder, replaced by the router. */
int sw_route_placeholder(void);
int sw_route_placeholder(void) { return 0; }
