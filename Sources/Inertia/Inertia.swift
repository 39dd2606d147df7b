/// The umbrella module: `import Inertia` brings in every library module of the package.
@_exported import InertiaData
@_exported import InertiaDistributed
@_exported import InertiaExperiments
@_exported import InertiaGenerative
@_exported import InertiaNN
@_exported import InertiaOptim
@_exported import InertiaParticles
@_exported import InertiaPhysics
@_exported import InertiaTensor
@_exported import InertiaTraining
@_exported import InertiaTransport
