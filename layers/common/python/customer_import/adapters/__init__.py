"""Adapters from the domain's ports to AWS: DynamoDB (PynamoDB), S3, Step Functions, and the
API Gateway management API. `wiring.pipeline_for(settings)` assembles them."""
