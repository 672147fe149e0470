"""Open311 GeoReport v2 for the 12345 hotline (http://wiki.open311.org/GeoReport_v2): the
categories as services, orders as service requests, in JSON and XML, at /open311/v2/.

- keys: the api keys of the client applications allowed to file requests;
- feed: the reads (services, their definition, the requests as the public sees them);
- intake: a POSTed request checked and registered as a work order;
- render: the JSON and XML documents and the spec's error format;
- views, urls: the endpoints.
"""
