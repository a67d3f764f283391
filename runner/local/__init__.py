"""The embedded local stack: moto's AWS server plus checkrun's SageMaker runtime, one port."""
