import Inertia
print(Tensor.eye(3))
