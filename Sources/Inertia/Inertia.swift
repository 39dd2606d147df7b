/// The umbrella module: `import Inertia` brings in every library module of the package.
@_exported import InertiaTensor
